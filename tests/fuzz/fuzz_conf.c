/*
 * fuzz_conf.c — libFuzzer target for the configuration decoders: the
 * YAML loader (gale.yaml), `-c key=value`, and a conf from msgpack. The
 * first byte picks the decoder; the rest is its input. Whatever is
 * accepted must also validate without crashing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char err[512];
    gale_conf_t *c = gale_conf_new();
    switch (data[0] % 3) {
        case 0: { /* gale.yaml: the loader reads a path */
            char path[] = "/tmp/gale-fuzz-yaml-XXXXXX";
            int fd = mkstemp(path);
            if (fd < 0) break;
            if (write(fd, data + 1, size - 1) == (ssize_t)(size - 1))
                gale__conf_load_yaml(c, path, err, sizeof err);
            close(fd);
            unlink(path);
            break;
        }
        case 1: { /* -c key=value */
            char *kv = malloc(size);
            memcpy(kv, data + 1, size - 1);
            kv[size - 1] = '\0';
            gale__conf_parse_kv(c, kv, err, sizeof err);
            free(kv);
            break;
        }
        default: { /* a conf map from the wire */
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            if (gale__msgpack_unpack_whole(data + 1, size - 1, &u, "conf", err, sizeof err) == 0)
                gale__conf_from_msgpack(c, &u.data);
            msgpack_unpacked_destroy(&u);
            break;
        }
    }
    gale__conf_validate(c, "fuzz", err, sizeof err);
    gale_conf_destroy(c);
    return 0;
}
