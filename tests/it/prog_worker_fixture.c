/*
 * prog_worker_fixture.c — what a supervisor would give `gale worker`,
 * made by hand for the worker scenario tests (tests/it/003x-worker-*.sh),
 * so workers are tested without nimbus or a supervisor:
 *
 *   files L ID LIB ENTRY SID HOST PORT... -- [entry args...]
 *       build the topology with LIB's ENTRY (topology.workers = number of
 *       ports), write L/stormdist/ID/{topology,conf,code.so} and, for each
 *       port, L/workers/ID-PORT/assignment placing the executors as the
 *       runtime's even placement does, all on supervisor SID at HOST.
 *   supervisor L
 *       a fake supervisor: a ROUTER on a free tcp loopback port written to
 *       L/supervisor/endpoint, answering every worker_heartbeat with
 *       reply{ok} and printing "heartbeat <id> <port> <pid> done=<0|1>
 *       executors=<n> version=<v>" per heartbeat; anything else gets a refusal. Runs
 *       until SIGTERM.
 *   reassign L ID PORT VERSION host:PEERPORT:HOST | regroup
 *       rewrite L/workers/ID-PORT/assignment as a supervisor would before a
 *       SIGHUP: with VERSION, and either the slot PEERPORT advertised at
 *       HOST (a peer "moved"), or the first executor put on a slot of its
 *       own (a regrouping the worker cannot follow).
 *   heartbeat L ID PORT PID COUNT
 *       send COUNT worker_heartbeats for slot ID-PORT claiming pid PID to
 *       the supervisor whose endpoint is in L/supervisor/endpoint, one
 *       every 50 ms, as a worker that just died might have left queued.
 *   garbage ENDPOINT
 *       connect a PUSH to a worker's data port and send what a confused
 *       or hostile peer might: one frame, a bad header, a batch that is
 *       not msgpack, tuples for tasks and executors that do not exist,
 *       bad credits and hellos, too many frames.
 *
 * Test-only: built beside the tests, never installed.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "cli/cli.h"
#include "common/codec.h"
#include "common/assignment.h"
#include "common/config.h"
#include "common/control.h"
#include "common/ctl_socket.h"
#include "common/fileio.h"
#include "worker/runtime.h"
#include "worker/stormdist.h"

static int die(const char *what, const char *err) {
    fprintf(stderr, "prog_worker_fixture: %s: %s\n", what, err);
    return 1;
}

static int write_sbuf(const char *path, const msgpack_sbuffer *sb) {
    char err[512];
    if (gale__file_write_atomic(path, sb->data, sb->size, err, sizeof err)) return die(path, err);
    return 0;
}

static int copy_file(const char *from, const char *to) {
    void *buf;
    size_t len;
    char err[512];
    if (gale__file_read(from, GALE_CTL_MAX_CODE, &buf, &len, err, sizeof err))
        return die(from, err);
    int rc = gale__file_write_atomic(to, buf, len, err, sizeof err);
    free(buf);
    return rc ? die(to, err) : 0;
}

static int cmd_files(int argc, char **argv) {
    if (argc < 7) return die("usage", "files L ID LIB ENTRY SID HOST PORT... -- [args]");
    const char *L = argv[0], *id = argv[1], *lib_path = argv[2], *entry = argv[3], *sid = argv[4],
               *host = argv[5];
    int nports = 0, ports[64];
    int i = 6;
    for (; i < argc && strcmp(argv[i], "--") != 0 && nports < 64; i++)
        ports[nports++] = atoi(argv[i]);
    if (i < argc) i++; /* -- */
    void *lib;
    gale__topology_t *topo;
    if (gale__load_topology(lib_path, entry, argc - i, argv + i, NULL, NULL, &lib, &topo)) return 1;
    gale_conf_set_int(topo->conf, GALE_CONF_TOPOLOGY_WORKERS, nports);

    char dir[PATH_MAX], path[PATH_MAX + 32], err[1024] = "";
    snprintf(dir, sizeof dir, "%s/stormdist/%s", L, id);
    if (gale__mkdirs(dir, err, sizeof err)) return die(dir, err);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (gale__topology_pack(&pk, topo)) return die("pack", "topology");
    snprintf(path, sizeof path, "%s/topology", dir);
    if (write_sbuf(path, &sb)) return 1;
    /* the submission's conf: what `gale jar` would send */
    msgpack_sbuffer_clear(&sb);
    if (gale__conf_pack(&pk, topo->conf)) return die("pack", "conf");
    snprintf(path, sizeof path, "%s/conf", dir);
    if (write_sbuf(path, &sb)) return 1;
    snprintf(path, sizeof path, "%s/code.so", dir);
    if (copy_file(lib_path, path)) return 1;

    /* the executors, as the runtime splits them, placed like local mode */
    gale__rt_t *rt;
    int rc = gale__rt_new(&rt, topo, NULL, NULL, gale__stormdist_resolve, lib, err, sizeof err);
    if (rc) return die("runtime", err);
    gale__ctl_executor_slot_t *slots = calloc(rt->n_execs, sizeof *slots);
    char sup[128], hostbuf[128];
    snprintf(sup, sizeof sup, "%s", sid);
    snprintf(hostbuf, sizeof hostbuf, "%s", host);
    for (size_t e = 0; e < rt->n_execs; e++) {
        gale__exec_t *x = &rt->execs[e];
        slots[e] = (gale__ctl_executor_slot_t){(uint64_t)x->tasks[0].id,
                                               (uint64_t)x->tasks[x->n_tasks - 1].id,
                                               sup,
                                               hostbuf,
                                               (uint64_t)ports[x->worker->index],
                                               GALE_CTL_UNSET,
                                               x->comp->id};
    }
    gale__ctl_topology_assignment_t a = {id, "ACTIVE", 1, {slots, (uint32_t)rt->n_execs}};
    for (int p = 0; p < nports && !rc; p++) {
        snprintf(dir, sizeof dir, "%s/workers/%s-%d", L, id, ports[p]);
        snprintf(path, sizeof path, "%s/assignment", dir);
        if (gale__mkdirs(dir, err, sizeof err) || gale__assignment_write(path, &a, err, sizeof err))
            rc = die(path, err);
    }
    for (size_t e = 0; e < rt->n_execs; e++)
        printf("executor [%d-%d] %s port %d\n", (int)slots[e].start, (int)slots[e].end,
               rt->execs[e].comp->id, (int)slots[e].port);
    free(slots);
    gale__rt_destroy(rt);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int cmd_reassign(int argc, char **argv) {
    if (argc < 5) return die("usage", "reassign L ID PORT VERSION host:PEERPORT:HOST|regroup");
    char path[PATH_MAX + 64], err[1024];
    snprintf(path, sizeof path, "%s/workers/%s-%s/assignment", argv[0], argv[1], argv[2]);
    gale__ctl_msg_t m;
    const gale__ctl_topology_assignment_t *a;
    if (gale__assignment_read(path, &m, &a, err, sizeof err)) return die(path, err);
    gale__ctl_topology_assignment_t b = *a;
    b.version = strtoull(argv[3], NULL, 10);
    gale__ctl_executor_slot_t *ex = calloc(a->executors.n, sizeof *ex);
    memcpy(ex, a->executors.items, a->executors.n * sizeof *ex);
    b.executors.items = ex;
    char host[128] = "";
    int peer = 0;
    bool regroup = strcmp(argv[4], "regroup") == 0;
    if (!regroup && sscanf(argv[4], "host:%d:%127s", &peer, host) != 2)
        return die("reassign", "mode is host:PEERPORT:HOST or regroup");
    for (uint32_t i = 0; i < b.executors.n; i++) {
        if (regroup && i == 0) ex[i].port = 1; /* a slot of its own: the grouping changes */
        if (!regroup && ex[i].port == (uint64_t)peer) ex[i].host = host;
    }
    int rc = gale__assignment_write(path, &b, err, sizeof err) ? die(path, err) : 0;
    free(ex);
    gale__ctl_msg_destroy(&m);
    return rc;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) {
    (void)sig;
    stop = 1;
}

static int cmd_supervisor(int argc, char **argv) {
    if (argc < 1) return die("usage", "supervisor L");
    char dir[PATH_MAX], path[PATH_MAX + 32], err[512];
    snprintf(dir, sizeof dir, "%s/supervisor", argv[0]);
    if (gale__mkdirs(dir, err, sizeof err)) return die(dir, err);
    void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(r, "tcp://127.0.0.1:*")) return die("bind", zmq_strerror(zmq_errno()));
    char ep[256];
    size_t eplen = sizeof ep;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &eplen);
    snprintf(path, sizeof path, "%s/endpoint", dir);
    char line[300];
    int n = snprintf(line, sizeof line, "%s\n", ep);
    if (gale__file_write_atomic(path, line, (size_t)n, err, sizeof err)) return die(path, err);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    printf("listening %s\n", ep);
    fflush(stdout);
    while (!stop) {
        zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 200) <= 0) continue;
        zmq_msg_t f[3];
        int nf = 0;
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, r, 0) < 0) break;
            int more = zmq_msg_more(&m);
            if (nf < 3)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
            if (!more) break;
        }
        gale__ctl_msg_t m;
        gale__ctl_reply_t reply = GALE__CTL_REPLY(true, NULL, NULL);
        uint64_t req = 0;
        if (nf != 3 ||
            gale__ctl_decode(zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), zmq_msg_data(&f[2]),
                             zmq_msg_size(&f[2]), &m, err, sizeof err)) {
            reply = GALE__CTL_REPLY(false, "bad message", NULL);
        } else {
            req = m.req;
            if (m.type == GALE_CTL_WORKER_HEARTBEAT) {
                const gale__ctl_worker_heartbeat_t *hb = &m.u.worker_heartbeat;
                printf("heartbeat %s %llu %llu done=%d executors=%u version=%llu\n",
                       hb->topology_id, (unsigned long long)hb->port, (unsigned long long)hb->pid,
                       hb->done ? 1 : 0, (unsigned)hb->executors.n,
                       (unsigned long long)hb->assignment_version);
                fflush(stdout);
            } else {
                reply = GALE__CTL_REPLY(false, "not a worker_heartbeat", NULL);
            }
            gale__ctl_msg_destroy(&m);
        }
        msgpack_sbuffer h, b;
        msgpack_sbuffer_init(&h);
        msgpack_sbuffer_init(&b);
        if (nf >= 1 &&
            gale__ctl_encode(&h, &b, GALE_CTL_REPLY, req, &reply, err, sizeof err) == 0) {
            zmq_send(r, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
            zmq_send(r, h.data, h.size, ZMQ_SNDMORE);
            zmq_send(r, b.data, b.size, 0);
        }
        msgpack_sbuffer_destroy(&h);
        msgpack_sbuffer_destroy(&b);
        for (int i = 0; i < nf; i++) zmq_msg_close(&f[i]);
    }
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

static void send_frames(void *s, const void *const *f, const size_t *n, int count) {
    for (int i = 0; i < count; i++) zmq_send(s, f[i], n[i], i + 1 < count ? ZMQ_SNDMORE : 0);
}

static int cmd_garbage(int argc, char **argv) {
    if (argc < 1) return die("usage", "garbage ENDPOINT");
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, argv[0])) return die("connect", zmq_strerror(zmq_errno()));
    msgpack_sbuffer batch_hdr, credit_hdr, hello_hdr, bad_hdr;
    msgpack_sbuffer_init(&batch_hdr);
    msgpack_sbuffer_init(&credit_hdr);
    msgpack_sbuffer_init(&hello_hdr);
    msgpack_sbuffer_init(&bad_hdr);
    /* claims to be worker 0 in another incarnation: the receiver counts
     * worker 0 afresh, and worker 0 must carry on all the same */
    gale__wire_header_pack(&batch_hdr, GALE_WIRE_BATCH, 0, 0x5eed);
    gale__wire_header_pack(&credit_hdr, "credit", -1, 0);
    gale__wire_header_pack(&hello_hdr, "hello", -1, 0); /* a type no longer spoken */
    gale__wire_header_pack(&bad_hdr, "no-such-type", -1, 0);
    /* a batch of one tuple to a task that does not exist */
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    gale_value_t v = gale_str("x");
    gale__wire_tuple_t wt = {.dest_task = 99999,
                             .stream = "default",
                             .stream_len = 7,
                             .src_task = 1,
                             .values = &v,
                             .n_values = 1};
    gale__batch_add(&enc, &wt);
    wt.dest_task = 1; /* an existing task, an unknown stream */
    wt.stream = "nope";
    wt.stream_len = 4;
    gale__batch_add(&enc, &wt);
    gale__batch_end(&enc);
    /* Well-formed tuples a worker must drop, to every task from every task:
     * system streams with a string value or the wrong arity, a user stream
     * with the wrong arity (word_count's streams have 1 or 3 fields). */
    gale__batch_encoder_t drop;
    gale__batch_encoder_init(&drop);
    gale__batch_begin(&drop);
    static const char *const sys_streams[] = {"__tick",       "__ack_init",    "__ack_ack",
                                              "__ack_fail",   "__ack_reset",   "__spout_ack",
                                              "__spout_fail", "__spout_reset", "default"};
    gale_value_t odd[7] = {gale_int(1),      gale_str("x"), gale_int(3), gale_nil(),
                           gale_double(0.5), gale_int(6),   gale_int(7)};
    uint64_t ids[2] = {1, 2};
    for (int d = 1; d <= 40; d++)
        for (int src = 1; src <= 40; src += 3)
            for (size_t k = 0; k < sizeof sys_streams / sizeof *sys_streams; k++) {
                bool user = k + 1 == sizeof sys_streams / sizeof *sys_streams;
                gale__wire_tuple_t h = {.dest_task = d,
                                        .stream = sys_streams[k],
                                        .stream_len = (uint32_t)strlen(sys_streams[k]),
                                        .src_task = src,
                                        .ids = ids,
                                        .n_ids = 1,
                                        /* ints but 7 of them, or the right count with a str */
                                        .values = user || (d & 1) ? odd : odd + 1,
                                        .n_values = user || (d & 1) ? 7 : (k == 1 ? 3 : 1)};
                gale__batch_add(&drop, &h);
            }
    gale__batch_end(&drop);
    static const unsigned char junk[] = {0xc1, 0xff, 0x00, 0x92, 0x93, 0xdd, 0xff, 0xff};
    /* Malformed batches the decoder must refuse whole: 29 nested arrays, a
     * str32 and an array32 claiming 4 GiB, a negative dest_task, 65 id
     * pairs, a float32 where src_task goes, bytes after the batch. */
    static unsigned char deep[64], many_ids[200];
    size_t deep_len = 0, ids_len = 0;
    static const unsigned char tuple_head[] = {0x91, 0x92, 0x01, 0x94, 0xa1, 's', 0x01};
    memcpy(deep, tuple_head, sizeof tuple_head);
    deep_len = sizeof tuple_head;
    deep[deep_len++] = 0x90; /* ids */
    deep[deep_len++] = 0x91; /* values */
    for (int i = 0; i < 29; i++) deep[deep_len++] = 0x91;
    deep[deep_len++] = 0xc0;
    memcpy(many_ids, tuple_head, sizeof tuple_head);
    ids_len = sizeof tuple_head;
    many_ids[ids_len++] = 0xdc;
    many_ids[ids_len++] = 0;
    many_ids[ids_len++] = 130;
    for (int i = 0; i < 130; i++) many_ids[ids_len++] = 0x01;
    many_ids[ids_len++] = 0x90;
    static const unsigned char big_str[] = {0x91, 0x92, 0x01, 0x94, 0xa1, 's',  0x01, 0x90,
                                            0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a',  'b'};
    static const unsigned char big_arr[] = {0x91, 0x92, 0x01, 0x94, 0xa1, 's',  0x01,
                                            0x90, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
    static const unsigned char neg_dest[] = {0x91, 0x92, 0xff, 0x94, 0xa1, 's', 0x01, 0x90, 0x90};
    static const unsigned char f32_src[] = {0x91, 0x92, 0x01, 0x94, 0xa1, 's', 0xca,
                                            0x7f, 0xc0, 0x00, 0x00, 0x90, 0x90};
    static const unsigned char trailing[] = {0x91, 0x92, 0x01, 0x94, 0xa1,
                                             's',  0x01, 0x90, 0x90, 0x00};
    const void *bad[] = {deep, many_ids, big_str, big_arr, neg_dest, f32_src, trailing};
    const size_t bad_len[] = {deep_len,        ids_len,        sizeof big_str, sizeof big_arr,
                              sizeof neg_dest, sizeof f32_src, sizeof trailing};
    static const unsigned char credits[] = {0x91, 0x92, 0xce, 0x7f, 0xff, 0xff, 0xff, 0x05};
    static const unsigned char hello[] = {0x92, 0xce, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'x'};
    for (int round = 0; round < 3; round++) {
        const void *f1[] = {"hello"};
        size_t n1[] = {5};
        send_frames(s, f1, n1, 1);
        const void *f2[] = {junk, junk};
        size_t n2[] = {sizeof junk, sizeof junk};
        send_frames(s, f2, n2, 2);
        const void *f3[] = {batch_hdr.data, junk};
        size_t n3[] = {batch_hdr.size, sizeof junk};
        send_frames(s, f3, n3, 2);
        const void *f4[] = {batch_hdr.data, enc.sb.data};
        size_t n4[] = {batch_hdr.size, enc.sb.size};
        send_frames(s, f4, n4, 2);
        const void *f5[] = {credit_hdr.data, credits};
        size_t n5[] = {credit_hdr.size, sizeof credits};
        send_frames(s, f5, n5, 2);
        const void *f6[] = {hello_hdr.data, hello};
        size_t n6[] = {hello_hdr.size, sizeof hello};
        send_frames(s, f6, n6, 2);
        const void *f7[] = {bad_hdr.data, junk};
        size_t n7[] = {bad_hdr.size, sizeof junk};
        send_frames(s, f7, n7, 2);
        const void *f8[] = {batch_hdr.data, enc.sb.data, junk, junk, junk};
        size_t n8[] = {batch_hdr.size, enc.sb.size, sizeof junk, sizeof junk, sizeof junk};
        send_frames(s, f8, n8, 5);
        const void *f9[] = {batch_hdr.data, ""};
        size_t n9[] = {batch_hdr.size, 0};
        send_frames(s, f9, n9, 2);
        const void *f10[] = {batch_hdr.data, drop.sb.data};
        size_t n10[] = {batch_hdr.size, drop.sb.size};
        send_frames(s, f10, n10, 2);
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            const void *f11[] = {batch_hdr.data, bad[k]};
            size_t n11[] = {batch_hdr.size, bad_len[k]};
            send_frames(s, f11, n11, 2);
        }
        /* strict prefixes of the batch of droppable tuples (every byte early on) */
        for (size_t cut = 0; cut < drop.sb.size; cut += 1 + cut / 8) {
            const void *f12[] = {batch_hdr.data, drop.sb.data};
            size_t n12[] = {batch_hdr.size, cut};
            send_frames(s, f12, n12, 2);
        }
    }
    gale__batch_encoder_destroy(&drop);
    gale__batch_encoder_destroy(&enc);
    msgpack_sbuffer_destroy(&batch_hdr);
    msgpack_sbuffer_destroy(&credit_hdr);
    msgpack_sbuffer_destroy(&hello_hdr);
    msgpack_sbuffer_destroy(&bad_hdr);
    zmq_close(s); /* lingers until sent (or 5 s) */
    zmq_ctx_term(ctx);
    printf("garbage sent to %s\n", argv[0]);
    return 0;
}

static int cmd_heartbeat(int argc, char **argv) {
    if (argc < 5) return die("usage", "heartbeat L ID PORT PID COUNT");
    char path[PATH_MAX + 32], err[512];
    snprintf(path, sizeof path, "%s/supervisor/endpoint", argv[0]);
    void *buf;
    size_t len;
    if (gale__file_read(path, 1024, &buf, &len, err, sizeof err)) return die(path, err);
    char *ep = buf;
    ep[strcspn(ep, "\r\n")] = '\0';
    void *ctx = zmq_ctx_new();
    gale__ctl_client_t c;
    if (gale__ctl_client_open(&c, ctx, ep, err, sizeof err)) return die(ep, err);
    gale__ctl_worker_heartbeat_t hb = {.topology_id = argv[1],
                                       .port = strtoull(argv[2], NULL, 10),
                                       .pid = strtoull(argv[3], NULL, 10)};
    for (int i = 0, n = atoi(argv[4]); i < n; i++) {
        gale__ctl_msg_t r;
        if (gale__ctl_call(&c, GALE_CTL_WORKER_HEARTBEAT, &hb, GALE_CTL_REPLY, 2000, &r, err,
                           sizeof err) == 0)
            gale__ctl_msg_destroy(&r);
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    gale__ctl_client_close(&c);
    zmq_ctx_term(ctx);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "garbage") == 0) return cmd_garbage(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "reassign") == 0) return cmd_reassign(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "files") == 0) return cmd_files(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "supervisor") == 0) return cmd_supervisor(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "heartbeat") == 0) return cmd_heartbeat(argc - 2, argv + 2);
    return die("usage",
               "files ... | supervisor L | heartbeat L ID PORT PID COUNT | garbage ENDPOINT");
}
