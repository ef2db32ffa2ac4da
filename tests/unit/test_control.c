/*
 * test_control.c — the control-plane codec (common/control.c) and the
 * checksum (common/checksum.c): every message type round-trips, optional
 * fields are absent as documented, the encoder refuses what a receiver
 * would refuse, and every kind of garbage on the wire is refused with
 * GALE_EPROTO and a reason naming the rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/checksum.h"
#include "common/control.h"
#include "common/value.h"

static bool contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected '%s' in '%s'\n", needle, hay);
        return false;
    }
    return true;
}

static const uint8_t SUM[GALE_CHECKSUM_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                               12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                               23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* Encode msg, decode it into out, re-encode out and check the bytes match. */
static void roundtrip(gale__ctl_type_t type, const void *msg, gale__ctl_msg_t *out) {
    msgpack_sbuffer h1, b1, h2, b2;
    msgpack_sbuffer_init(&h1);
    msgpack_sbuffer_init(&b1);
    msgpack_sbuffer_init(&h2);
    msgpack_sbuffer_init(&b2);
    char err[256] = "";
    int rc = gale__ctl_encode(&h1, &b1, type, 42, msg, err, sizeof err);
    if (rc) print_error("encode %s: %s\n", gale__ctl_type_name(type), err);
    assert_int_equal(rc, 0);
    rc = gale__ctl_decode(h1.data, h1.size, b1.data, b1.size, out, err, sizeof err);
    if (rc) print_error("decode %s: %s\n", gale__ctl_type_name(type), err);
    assert_int_equal(rc, 0);
    assert_int_equal(out->type, type);
    assert_int_equal(out->req, 42);
    assert_int_equal(gale__ctl_encode(&h2, &b2, type, 42, &out->u, err, sizeof err), 0);
    assert_int_equal(h1.size, h2.size);
    assert_memory_equal(h1.data, h2.data, h1.size);
    assert_int_equal(b1.size, b2.size);
    assert_memory_equal(b1.data, b2.data, b1.size);
    msgpack_sbuffer_destroy(&h1);
    msgpack_sbuffer_destroy(&b1);
    msgpack_sbuffer_destroy(&h2);
    msgpack_sbuffer_destroy(&b2);
}

static void test_roundtrip_every_type(void **state) {
    (void)state;
    gale__ctl_msg_t m;
    bool seen[GALE_CTL__COUNT] = {false};

    gale__ctl_reply_t reply = GALE__CTL_REPLY(false, "no such topology 'x'", NULL);
    roundtrip(GALE_CTL_REPLY, &reply, &m);
    assert_false(m.u.reply.ok);
    assert_string_equal(m.u.reply.error, "no such topology 'x'");
    assert_null(m.u.reply.id);
    gale__ctl_msg_destroy(&m);
    gale__ctl_reply_t reply_id = GALE__CTL_REPLY(true, NULL, "wc-1-1700000000");
    roundtrip(GALE_CTL_REPLY, &reply_id, &m);
    assert_true(m.u.reply.ok);
    assert_string_equal(m.u.reply.id, "wc-1-1700000000");
    assert_true(m.u.reply.wait_secs == GALE_CTL_UNSET); /* absent: not 0 */
    gale__ctl_msg_destroy(&m);
    reply_id.wait_secs = 0; /* a kill -w 0 waits 0 s: a value, not "absent" */
    roundtrip(GALE_CTL_REPLY, &reply_id, &m);
    assert_int_equal(m.u.reply.wait_secs, 0);
    gale__ctl_msg_destroy(&m);
    reply_id.wait_secs = 30;
    roundtrip(GALE_CTL_REPLY, &reply_id, &m);
    assert_int_equal(m.u.reply.wait_secs, 30);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_REPLY] = true;

    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.workers", 3);
    gale_conf_set_str(conf, "my.key", "v");
    const uint8_t topo[] = {0x93, 1, 2, 3};
    gale__ctl_submit_begin_t sb = {"wc", conf,     {topo, sizeof topo}, 123456, {SUM, sizeof SUM},
                                   0,    {NULL, 0}};
    roundtrip(GALE_CTL_SUBMIT_BEGIN, &sb, &m);
    assert_string_equal(m.u.submit_begin.name, "wc");
    assert_int_equal(gale_conf_get_int(m.u.submit_begin.conf, "topology.workers", 0), 3);
    assert_string_equal(gale_conf_get_str(m.u.submit_begin.conf, "my.key", ""), "v");
    assert_int_equal(m.u.submit_begin.topology.len, sizeof topo);
    assert_memory_equal(m.u.submit_begin.topology.ptr, topo, sizeof topo);
    assert_int_equal(m.u.submit_begin.code_size, 123456);
    assert_memory_equal(m.u.submit_begin.code_sum.ptr, SUM, sizeof SUM);
    assert_int_equal(m.u.submit_begin.resources_size, 0);
    assert_null(m.u.submit_begin.resources_sum.ptr);
    gale__ctl_msg_destroy(&m);
    sb.resources_size = 10;
    sb.resources_sum = (gale__ctl_bytes_t){SUM, sizeof SUM};
    roundtrip(GALE_CTL_SUBMIT_BEGIN, &sb, &m);
    assert_int_equal(m.u.submit_begin.resources_size, 10);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_SUBMIT_BEGIN] = true;

    const uint8_t chunk[] = {0x7f, 'E', 'L', 'F', 0};
    gale__ctl_submit_chunk_t sc = {"up-1", "code", 4096, {chunk, sizeof chunk}};
    roundtrip(GALE_CTL_SUBMIT_CHUNK, &sc, &m);
    assert_string_equal(m.u.submit_chunk.part, "code");
    assert_int_equal(m.u.submit_chunk.offset, 4096);
    assert_memory_equal(m.u.submit_chunk.data.ptr, chunk, sizeof chunk);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_SUBMIT_CHUNK] = true;

    gale__ctl_submit_end_t se = {"up-1"};
    roundtrip(GALE_CTL_SUBMIT_END, &se, &m);
    assert_string_equal(m.u.submit_end.upload, "up-1");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_SUBMIT_END] = true;

    gale__ctl_list_t list = {NULL};
    roundtrip(GALE_CTL_LIST, &list, &m);
    assert_null(m.u.list.name);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_LIST] = true;

    gale__ctl_topology_summary_t tops[2] = {
        {"wc", "wc-1-1700000000", "ACTIVE", 12, 3, 9, 20, true, 4},
        {"ex", "ex-2-1700000001", "INACTIVE", 0, 1, 2, 2, false, GALE_CTL_UNSET}};
    gale__ctl_list_reply_t lr = {true, NULL, {tops, 2}};
    roundtrip(GALE_CTL_LIST_REPLY, &lr, &m);
    assert_int_equal(m.u.list_reply.topologies.n, 2);
    assert_string_equal(m.u.list_reply.topologies.items[1].status, "INACTIVE");
    assert_int_equal(m.u.list_reply.topologies.items[0].restarts, 4);
    assert_int_equal(m.u.list_reply.topologies.items[1].restarts, GALE_CTL_UNSET);
    assert_int_equal(m.u.list_reply.topologies.items[0].tasks, 20);
    assert_true(m.u.list_reply.topologies.items[0].done);
    assert_false(m.u.list_reply.topologies.items[1].done);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_LIST_REPLY] = true;

    gale__ctl_kill_t kill = {"wc", GALE_CTL_UNSET};
    roundtrip(GALE_CTL_KILL, &kill, &m);
    assert_int_equal(m.u.kill.wait_secs, GALE_CTL_UNSET);
    gale__ctl_msg_destroy(&m);
    kill.wait_secs = 0; /* kill -w 0 is a real value, not "absent" */
    roundtrip(GALE_CTL_KILL, &kill, &m);
    assert_int_equal(m.u.kill.wait_secs, 0);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_KILL] = true;

    gale__ctl_activate_t act = {"wc"};
    roundtrip(GALE_CTL_ACTIVATE, &act, &m);
    assert_string_equal(m.u.activate.name, "wc");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_ACTIVATE] = true;
    gale__ctl_deactivate_t deact = {"wc"};
    roundtrip(GALE_CTL_DEACTIVATE, &deact, &m);
    assert_string_equal(m.u.deactivate.name, "wc");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DEACTIVATE] = true;

    gale__ctl_component_count_t counts[2] = {{"split", 4}, {"count", 8}};
    gale__ctl_rebalance_t rb = {"wc", 5, 2, {counts, 2}};
    roundtrip(GALE_CTL_REBALANCE, &rb, &m);
    assert_int_equal(m.u.rebalance.workers, 2);
    assert_int_equal(m.u.rebalance.executors.n, 2);
    assert_string_equal(m.u.rebalance.executors.items[1].component, "count");
    assert_int_equal(m.u.rebalance.executors.items[1].executors, 8);
    gale__ctl_msg_destroy(&m);
    gale__ctl_rebalance_t rb_min = {"wc", GALE_CTL_UNSET, GALE_CTL_UNSET, {NULL, 0}};
    roundtrip(GALE_CTL_REBALANCE, &rb_min, &m);
    assert_int_equal(m.u.rebalance.workers, GALE_CTL_UNSET);
    assert_int_equal(m.u.rebalance.executors.n, 0);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_REBALANCE] = true;

    uint64_t ports[3] = {6700, 6701, 6702};
    gale__ctl_worker_state_t ws[2] = {
        {"wc-1-1700000000", 6700, 4242, "running", 800, 0, false, {(const uint8_t *)"\x93", 1}},
        {"wc-1-1700000000", 6701, 4243, "starting", GALE_CTL_UNSET, 2, true, {NULL, 0}},
    };
    gale__ctl_supervisor_heartbeat_t hb = {"sup-a", "127.0.0.2", {ports, 3}, 8000, 77, 5, {ws, 2}};
    roundtrip(GALE_CTL_SUPERVISOR_HEARTBEAT, &hb, &m);
    assert_int_equal(m.u.supervisor_heartbeat.ports.n, 3);
    assert_int_equal(m.u.supervisor_heartbeat.ports.items[2], 6702);
    assert_int_equal(m.u.supervisor_heartbeat.workers.items[1].hb_age_ms, GALE_CTL_UNSET);
    assert_true(m.u.supervisor_heartbeat.workers.items[1].done);
    assert_string_equal(m.u.supervisor_heartbeat.workers.items[0].state, "running");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_SUPERVISOR_HEARTBEAT] = true;

    gale__ctl_heartbeat_reply_t hr = {true, NULL, 6};
    roundtrip(GALE_CTL_HEARTBEAT_REPLY, &hr, &m);
    assert_int_equal(m.u.heartbeat_reply.assignment_version, 6);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_HEARTBEAT_REPLY] = true;

    gale__ctl_assignment_fetch_t af = {"sup-a", NULL};
    roundtrip(GALE_CTL_ASSIGNMENT_FETCH, &af, &m);
    assert_string_equal(m.u.assignment_fetch.supervisor, "sup-a");
    assert_null(m.u.assignment_fetch.topology);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_ASSIGNMENT_FETCH] = true;

    gale__ctl_executor_slot_t slots[3] = {{1, 1, "sup-a", "127.0.0.2", 6700, 8000, "split"},
                                          {2, 3, "sup-b", "127.0.0.3", 6700, GALE_CTL_UNSET, NULL},
                                          {4, 4, "sup-a", "127.0.0.2", 6701, 8000, "__acker"}};
    gale__ctl_topology_assignment_t ta = {"wc-1-1700000000", "ACTIVE", 3, {slots, 3}};
    gale__ctl_assignment_reply_t ar = {true, NULL, 9, {&ta, 1}};
    roundtrip(GALE_CTL_ASSIGNMENT_REPLY, &ar, &m);
    assert_int_equal(m.u.assignment_reply.version, 9);
    assert_int_equal(m.u.assignment_reply.topologies.n, 1);
    const gale__ctl_topology_assignment_t *t0 = &m.u.assignment_reply.topologies.items[0];
    assert_int_equal(t0->executors.n, 3);
    assert_int_equal(t0->executors.items[1].end, 3);
    assert_string_equal(t0->executors.items[1].host, "127.0.0.3");
    assert_int_equal(t0->executors.items[1].logviewer_port, GALE_CTL_UNSET);
    assert_string_equal(t0->executors.items[0].component, "split");
    assert_null(t0->executors.items[1].component); /* optional: older nimbus */
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_ASSIGNMENT_REPLY] = true;

    gale__ctl_code_fetch_t cf = {"wc-1-1700000000", "resources", 0, GALE_CTL_CHUNK_MAX};
    roundtrip(GALE_CTL_CODE_FETCH, &cf, &m);
    assert_string_equal(m.u.code_fetch.part, "resources");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_CODE_FETCH] = true;

    /* Empty data at the end of a part is data, not "absent". */
    gale__ctl_code_reply_t cr = {true, NULL, 5, {SUM, sizeof SUM}, {chunk, 0}};
    roundtrip(GALE_CTL_CODE_REPLY, &cr, &m);
    assert_non_null(m.u.code_reply.data.ptr);
    assert_int_equal(m.u.code_reply.data.len, 0);
    assert_int_equal(m.u.code_reply.size, 5);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_CODE_REPLY] = true;

    gale__ctl_executor_range_t ranges[2] = {{1, 2}, {7, 7}};
    gale__ctl_worker_heartbeat_t wh = {
        "wc-1-1700000000", 6700, 4242, 3, {ranges, 2}, false, {(const uint8_t *)"\x93\x01", 2}};
    roundtrip(GALE_CTL_WORKER_HEARTBEAT, &wh, &m);
    assert_int_equal(m.u.worker_heartbeat.executors.items[1].start, 7);
    assert_false(m.u.worker_heartbeat.done);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_WORKER_HEARTBEAT] = true;

    /* DRPC (more cases, and the garbage, in test_drpc.c) */
    gale__ctl_drpc_execute_t dx = {"words", "cow moon"};
    roundtrip(GALE_CTL_DRPC_EXECUTE, &dx, &m);
    assert_string_equal(m.u.drpc_execute.args, "cow moon");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_EXECUTE] = true;
    gale__ctl_drpc_execute_reply_t dxr = {true, NULL, "2"};
    roundtrip(GALE_CTL_DRPC_EXECUTE_REPLY, &dxr, &m);
    assert_string_equal(m.u.drpc_execute_reply.result, "2");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_EXECUTE_REPLY] = true;
    gale__ctl_drpc_fetch_t df = {"words"};
    roundtrip(GALE_CTL_DRPC_FETCH, &df, &m);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_FETCH] = true;
    gale__ctl_drpc_fetch_reply_t dfr = {true, NULL, 12, ""};
    roundtrip(GALE_CTL_DRPC_FETCH_REPLY, &dfr, &m);
    assert_int_equal(m.u.drpc_fetch_reply.id, 12);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_FETCH_REPLY] = true;
    gale__ctl_drpc_result_t dr = {12, "2"};
    roundtrip(GALE_CTL_DRPC_RESULT, &dr, &m);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_RESULT] = true;
    gale__ctl_drpc_fail_t dfl = {12, "failed"};
    roundtrip(GALE_CTL_DRPC_FAIL, &dfl, &m);
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_DRPC_FAIL] = true;
    gale__ctl_stats_t st = {"wc", 600};
    roundtrip(GALE_CTL_STATS, &st, &m);
    assert_int_equal(m.u.stats.window_secs, 600);
    assert_string_equal(m.u.stats.topology, "wc");
    gale__ctl_msg_destroy(&m);
    seen[GALE_CTL_STATS] = true;
    gale__ctl_stats_reply_t sr = {true, NULL, "{}"};
    roundtrip(GALE_CTL_STATS_REPLY, &sr, &m);
    assert_string_equal(m.u.stats_reply.json, "{}");
    gale__ctl_msg_destroy(&m);
    gale__ctl_stats_reply_t sr_bad = {true, NULL, NULL}; /* ok without json */
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    char e2[256];
    assert_int_not_equal(gale__ctl_encode(&h, &b, GALE_CTL_STATS_REPLY, 1, &sr_bad, e2, sizeof e2),
                         0);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
    seen[GALE_CTL_STATS_REPLY] = true;

    for (int t = GALE_CTL_NONE + 1; t < GALE_CTL__COUNT; t++) {
        if (!seen[t]) print_error("type %s has no round-trip case\n", gale__ctl_type_name(t));
        assert_true(seen[t]);
    }
    assert_null(gale__ctl_type_name(GALE_CTL_NONE));
    assert_null(gale__ctl_type_name(GALE_CTL__COUNT));
    gale_conf_destroy(conf);
}

/* ------------------------------------------------------------------ */
/* Hand-made frames                                                     */
/* ------------------------------------------------------------------ */

typedef struct frames {
    msgpack_sbuffer h, b;
} frames_t;

static void frames_init(frames_t *f) {
    msgpack_sbuffer_init(&f->h);
    msgpack_sbuffer_init(&f->b);
}

static void frames_destroy(frames_t *f) {
    msgpack_sbuffer_destroy(&f->h);
    msgpack_sbuffer_destroy(&f->b);
}

static void pack_value(msgpack_sbuffer *sb, gale_value_t v) {
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(gale__value_pack(&pk, &v), 0);
}

static void header_of(frames_t *f, const char *type) {
    gale_value_t kv[6] = {gale_str("v"),    gale_int(GALE_CTL_VERSION),
                          gale_str("type"), gale_str(type),
                          gale_str("req"),  gale_int(7)};
    pack_value(&f->h, gale_map(kv, 3));
}

/* Decode f; expect GALE_EPROTO with needle in the reason. Returns the
 * message so callers can check type/req survived a body refusal. */
static gale__ctl_msg_t refused(const frames_t *f, const char *needle) {
    gale__ctl_msg_t m;
    char err[256] = "";
    int rc = gale__ctl_decode(f->h.data, f->h.size, f->b.data, f->b.size, &m, err, sizeof err);
    if (rc != GALE_EPROTO) print_error("rc %d for '%s'\n", rc, needle);
    assert_int_equal(rc, GALE_EPROTO);
    assert_true(contains(err, needle));
    assert_null(strchr(err, '\n'));
    assert_null(m.mem); /* nothing left to free */
    gale__ctl_msg_destroy(&m);
    return m;
}

static void body_of(frames_t *f, gale_value_t v) {
    pack_value(&f->b, v);
}

static void test_header_garbage(void **state) {
    (void)state;
    frames_t f;
    frames_init(&f);
    gale_value_t kvname[2] = {gale_str("name"), gale_str("wc")};
    body_of(&f, gale_map(kvname, 1));

    msgpack_sbuffer_clear(&f.h);
    refused(&f, "header: empty frame");

    msgpack_sbuffer_write(&f.h, "\xc1", 1);
    refused(&f, "header: malformed msgpack (invalid byte 0xc1)");

    header_of(&f, "kill");
    f.h.size--; /* truncated */
    refused(&f, "header: malformed msgpack (truncated)");

    header_of(&f, "kill");
    msgpack_sbuffer_write(&f.h, "\x01", 1);
    refused(&f, "header: 1 trailing bytes after the message");

    pack_value(&f.h, gale_str("hello"));
    refused(&f, "header: not a map (not a Gale peer?)");

    gale_value_t nov[4] = {gale_str("type"), gale_str("kill"), gale_str("req"), gale_int(1)};
    pack_value(&f.h, gale_map(nov, 2));
    refused(&f, "header: v: required field missing");

    gale_value_t v2[6] = {gale_str("v"),    gale_int(2),     gale_str("type"),
                          gale_str("kill"), gale_str("req"), gale_int(1)};
    pack_value(&f.h, gale_map(v2, 3));
    refused(&f, "control protocol version 2 is not supported (this is version 1)");

    gale_value_t vstr[6] = {gale_str("v"),    gale_str("1"),   gale_str("type"),
                            gale_str("kill"), gale_str("req"), gale_int(1)};
    pack_value(&f.h, gale_map(vstr, 3));
    refused(&f, "header: v: not an unsigned integer");

    gale_value_t noreq[4] = {gale_str("v"), gale_int(1), gale_str("type"), gale_str("kill")};
    pack_value(&f.h, gale_map(noreq, 2));
    refused(&f, "header: req: required field missing");

    gale_value_t negreq[6] = {gale_str("v"),    gale_int(1),     gale_str("type"),
                              gale_str("kill"), gale_str("req"), gale_int(-1)};
    pack_value(&f.h, gale_map(negreq, 3));
    refused(&f, "header: req: not an unsigned integer");

    gale_value_t extra[8] = {gale_str("v"),   gale_int(1), gale_str("type"), gale_str("kill"),
                             gale_str("req"), gale_int(1), gale_str("who"),  gale_str("me")};
    pack_value(&f.h, gale_map(extra, 4));
    refused(&f, "header: unknown field 'who'");

    header_of(&f, "format_disk\n");
    gale__ctl_msg_t m = refused(&f, "header: unknown message type 'format_disk?'");
    assert_int_equal(m.type, GALE_CTL_NONE);

    char big[GALE_CTL_MAX_HEADER + 1];
    memset(big, 'a', sizeof big);
    msgpack_sbuffer_clear(&f.h);
    msgpack_sbuffer_write(&f.h, big, sizeof big);
    refused(&f, "header: 257 bytes (at most 256)");
    frames_destroy(&f);
}

static void test_body_garbage(void **state) {
    (void)state;
    frames_t f;
    frames_init(&f);

    header_of(&f, "kill");
    msgpack_sbuffer_clear(&f.b);
    gale__ctl_msg_t m = refused(&f, "kill: empty body frame");
    /* The header was good: a nimbus can still answer request 7. */
    assert_int_equal(m.type, GALE_CTL_KILL);
    assert_int_equal(m.req, 7);

    body_of(&f, gale_int(3));
    refused(&f, "kill: not a map");

    gale_value_t empty[1];
    body_of(&f, gale_map(empty, 0));
    refused(&f, "kill: name: required field missing");

    gale_value_t name_int[2] = {gale_str("name"), gale_int(5)};
    body_of(&f, gale_map(name_int, 1));
    refused(&f, "kill: name: not a string");

    char longname[200];
    memset(longname, 'n', sizeof longname);
    gale_value_t name_long[2] = {gale_str("name"), gale_strn(longname, sizeof longname)};
    body_of(&f, gale_map(name_long, 1));
    refused(&f, "kill: name: 200 bytes long (allowed 1..128)");

    gale_value_t name_nul[2] = {gale_str("name"), gale_strn("w\0c", 3)};
    body_of(&f, gale_map(name_nul, 1));
    refused(&f, "kill: name: contains a NUL byte");

    gale_value_t wait_big[4] = {gale_str("name"), gale_str("wc"), gale_str("wait_secs"),
                                gale_int(86401)};
    body_of(&f, gale_map(wait_big, 2));
    refused(&f, "kill: wait_secs: 86401 is out of range 0..86400");

    /* a reply's wait_secs is checked like a request's: the CLI prints it */
    header_of(&f, "reply");
    gale_value_t reply_wait[4] = {gale_str("ok"), gale_bool(true), gale_str("wait_secs"),
                                  gale_int(86401)};
    body_of(&f, gale_map(reply_wait, 2));
    refused(&f, "reply: wait_secs: 86401 is out of range 0..86400");
    reply_wait[3] = gale_str("30");
    body_of(&f, gale_map(reply_wait, 2));
    refused(&f, "reply: wait_secs: not an unsigned integer");
    header_of(&f, "kill");

    gale_value_t wait_neg[4] = {gale_str("name"), gale_str("wc"), gale_str("wait_secs"),
                                gale_int(-1)};
    body_of(&f, gale_map(wait_neg, 2));
    refused(&f, "kill: wait_secs: not an unsigned integer");

    gale_value_t unknown[4] = {gale_str("name"), gale_str("wc"), gale_str("force"),
                               gale_bool(true)};
    body_of(&f, gale_map(unknown, 2));
    refused(&f, "kill: unknown field 'force'");

    gale_value_t twice[4] = {gale_str("name"), gale_str("wc"), gale_str("name"), gale_str("x")};
    body_of(&f, gale_map(twice, 2));
    refused(&f, "kill: name: given twice");

    gale_value_t intkey[2] = {gale_int(1), gale_str("wc")};
    body_of(&f, gale_map(intkey, 1));
    refused(&f, "kill: a field name is not a string");

    /* Trailing garbage after a good body. */
    gale_value_t good[2] = {gale_str("name"), gale_str("wc")};
    body_of(&f, gale_map(good, 1));
    msgpack_sbuffer_write(&f.b, "\x00\x00", 2);
    refused(&f, "kill body: 2 trailing bytes after the message");

    /* A map claiming more pairs than there are bytes. */
    msgpack_sbuffer_clear(&f.b);
    msgpack_sbuffer_write(&f.b, "\xdf\xff\xff\xff\xff", 5);
    refused(&f, "kill body: malformed msgpack (truncated)");

    /* Ext types are never Gale's. */
    msgpack_sbuffer_clear(&f.b);
    msgpack_sbuffer_write(&f.b, "\xd4\x01\x00", 3);
    refused(&f, "kill body: malformed msgpack (ext types are not supported)");

    /* Enumerated words. */
    header_of(&f, "submit_chunk");
    gale_value_t part[8] = {gale_str("upload"), gale_str("u"),      gale_str("part"),
                            gale_str("jar"),    gale_str("offset"), gale_int(0),
                            gale_str("data"),   gale_bytes("x", 1)};
    body_of(&f, gale_map(part, 4));
    refused(&f, "submit_chunk: part: 'jar' is not one of code|resources");
    part[3] = gale_str("code");
    part[7] = gale_str("x"); /* str where bin is due */
    body_of(&f, gale_map(part, 4));
    refused(&f, "submit_chunk: data: not bytes (msgpack bin)");
    part[7] = gale_bytes("", 0);
    body_of(&f, gale_map(part, 4));
    refused(&f, "submit_chunk: data: 0 bytes (allowed 1..1048576)");

    /* A checksum of the wrong length; a conf with a non-string key. */
    header_of(&f, "submit_begin");
    gale_value_t confkv[2] = {gale_int(1), gale_int(2)};
    gale_value_t sb[14] = {gale_str("name"),           gale_str("wc"),
                           gale_str("conf"),           gale_map(confkv, 0),
                           gale_str("topology"),       gale_bytes("t", 1),
                           gale_str("code_size"),      gale_int(10),
                           gale_str("code_sum"),       gale_bytes(SUM, 31),
                           gale_str("resources_size"), gale_int(0),
                           gale_str("resources_sum"),  gale_bytes(SUM, 32)};
    body_of(&f, gale_map(sb, 6));
    refused(&f, "submit_begin: code_sum: 31 bytes (allowed 32..32)");
    sb[9] = gale_bytes(SUM, 32);
    body_of(&f, gale_map(sb, 7));
    refused(&f, "submit_begin: resources_sum must be given exactly when resources_size > 0");
    sb[3] = gale_map(confkv, 1);
    body_of(&f, gale_map(sb, 6));
    refused(&f, "submit_begin: conf: a key is not a non-empty string");
    sb[3] = gale_int(0);
    body_of(&f, gale_map(sb, 6));
    refused(&f, "submit_begin: conf: not a map");

    /* Errors deep inside arrays of records name their path. */
    header_of(&f, "supervisor_heartbeat");
    gale_value_t ports[2] = {gale_int(6700), gale_int(70000)};
    gale_value_t w0[12] = {
        gale_str("topology_id"), gale_str("wc-1-1"), gale_str("port"),  gale_int(6700),
        gale_str("pid"),         gale_int(10),       gale_str("state"), gale_str("zombie"),
        gale_str("restarts"),    gale_int(0),        gale_str("done"),  gale_bool(false)};
    gale_value_t workers[1] = {gale_map(w0, 6)};
    gale_value_t hb[14] = {gale_str("id"),
                           gale_str("sup-a"),
                           gale_str("host"),
                           gale_str("h"),
                           gale_str("ports"),
                           gale_array(ports, 2),
                           gale_str("uptime_secs"),
                           gale_int(1),
                           gale_str("assignment_version"),
                           gale_int(0),
                           gale_str("workers"),
                           gale_array(workers, 1),
                           gale_str("logviewer_port"),
                           gale_int(8000)};
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: ports[1]: 70000 is out of range 1..65535");
    ports[1] = gale_str("6701");
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: ports[1]: not an unsigned integer");
    ports[1] = gale_int(6701);
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: workers[0].state: 'zombie' is not one of starting|running");
    w0[7] = gale_str("running");
    w0[10] = gale_str("pid");
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: workers[0].pid: given twice");
    w0[10] = gale_str("done");
    workers[0] = gale_int(1);
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: workers[0]: not a map");
    /* Too many items. */
    gale_value_t *many = calloc(1025, sizeof(*many));
    assert_non_null(many);
    for (int i = 0; i < 1025; i++) many[i] = gale_int(6700);
    hb[5] = gale_array(many, 1025);
    body_of(&f, gale_map(hb, 7));
    refused(&f, "supervisor_heartbeat: ports: 1025 items (at most 1024)");
    free(many);

    /* Cross-field rules. */
    header_of(&f, "worker_heartbeat");
    gale_value_t r0[4] = {gale_str("start"), gale_int(5), gale_str("end"), gale_int(4)};
    gale_value_t ranges[1] = {gale_map(r0, 2)};
    gale_value_t wh[10] = {gale_str("topology_id"),
                           gale_str("wc-1-1"),
                           gale_str("port"),
                           gale_int(6700),
                           gale_str("pid"),
                           gale_int(10),
                           gale_str("assignment_version"),
                           gale_int(1),
                           gale_str("executors"),
                           gale_array(ranges, 1)};
    body_of(&f, gale_map(wh, 5));
    refused(&f, "worker_heartbeat: executors[0]: task range start > end");
    r0[1] = gale_int(0);
    body_of(&f, gale_map(wh, 5));
    refused(&f, "worker_heartbeat: executors[0].start: 0 is out of range 1..2147483647");

    header_of(&f, "reply");
    gale_value_t bad_reply[2] = {gale_str("ok"), gale_bool(false)};
    body_of(&f, gale_map(bad_reply, 1));
    refused(&f, "reply: ok is false but no error says why");
    bad_reply[1] = gale_int(1);
    body_of(&f, gale_map(bad_reply, 1));
    refused(&f, "reply: ok: not a boolean");

    header_of(&f, "assignment_fetch");
    gale_value_t both[4] = {gale_str("supervisor"), gale_str("a"), gale_str("topology"),
                            gale_str("b")};
    body_of(&f, gale_map(both, 2));
    refused(&f, "assignment_fetch: give exactly one of supervisor and topology");
    body_of(&f, gale_map(both, 0));
    refused(&f, "assignment_fetch: give exactly one of supervisor and topology");

    header_of(&f, "code_reply");
    gale_value_t cr[2] = {gale_str("ok"), gale_bool(true)};
    body_of(&f, gale_map(cr, 1));
    refused(&f, "code_reply: ok without size, sum and data");

    /* A body beyond the limit is refused before it is parsed. */
    header_of(&f, "submit_chunk");
    msgpack_sbuffer_clear(&f.b);
    char *huge = calloc(1, GALE_CTL_MAX_BODY + 1);
    assert_non_null(huge);
    msgpack_sbuffer_write(&f.b, huge, GALE_CTL_MAX_BODY + 1);
    free(huge);
    refused(&f, "submit_chunk: body of 8388609 bytes (at most 8388608)");
    frames_destroy(&f);
}

static void test_encode_refuses(void **state) {
    (void)state;
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    char err[256];

    gale__ctl_kill_t noname = {NULL, GALE_CTL_UNSET};
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_KILL, 1, &noname, err, sizeof err),
                     GALE_EINVAL);
    assert_true(contains(err, "kill: name: required field missing: cannot send"));

    gale__ctl_kill_t wait = {"wc", 100000};
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_KILL, 1, &wait, err, sizeof err),
                     GALE_ERANGE);
    assert_true(contains(err, "kill: wait_secs: 100000 is out of range 0..86400"));

    uint64_t ports[1] = {0};
    gale__ctl_supervisor_heartbeat_t hb = {"s", "h", {ports, 1}, GALE_CTL_UNSET, 0, 0, {NULL, 0}};
    assert_int_equal(
        gale__ctl_encode(&h, &b, GALE_CTL_SUPERVISOR_HEARTBEAT, 1, &hb, err, sizeof err),
        GALE_ERANGE);
    assert_true(contains(err, "supervisor_heartbeat: ports[0]: 0 is out of range 1..65535"));
    hb.ports.items = NULL;
    assert_int_equal(
        gale__ctl_encode(&h, &b, GALE_CTL_SUPERVISOR_HEARTBEAT, 1, &hb, err, sizeof err),
        GALE_EINVAL);

    gale__ctl_reply_t r = GALE__CTL_REPLY(false, NULL, NULL);
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_REPLY, 1, &r, err, sizeof err), GALE_EINVAL);
    assert_true(contains(err, "reply: ok is false but no error says why"));

    gale__ctl_submit_chunk_t sc = {"u", "jar", 0, {SUM, 4}};
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_SUBMIT_CHUNK, 1, &sc, err, sizeof err),
                     GALE_ERANGE);
    assert_true(contains(err, "submit_chunk: part: 'jar' is not one of code|resources"));

    gale__ctl_list_t list = {NULL};
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_NONE, 1, &list, err, sizeof err),
                     GALE_EINVAL);
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL__COUNT, 1, &list, err, sizeof err),
                     GALE_EINVAL);
    assert_int_equal(
        gale__ctl_encode(&h, &b, GALE_CTL_LIST, GALE_CTL_UNSET, &list, err, sizeof err),
        GALE_EINVAL);
    assert_int_equal(gale__ctl_encode(&h, &b, GALE_CTL_LIST, 1, NULL, err, sizeof err),
                     GALE_EINVAL);
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
}

static void test_checksum(void **state) {
    (void)state;
    uint8_t sum[GALE_CHECKSUM_LEN];
    char hex[GALE_CHECKSUM_HEX];
    /* BLAKE2b-256 test values (RFC 7693's algorithm, 32-byte digest). */
    assert_int_equal(gale__checksum("", 0, sum), 0);
    gale__checksum_hex(sum, hex);
    assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    assert_int_equal(gale__checksum("abc", 3, sum), 0);
    gale__checksum_hex(sum, hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

    /* Chunked equals whole, whatever the chunking. */
    uint8_t data[10000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    uint8_t whole[GALE_CHECKSUM_LEN], parts[GALE_CHECKSUM_LEN];
    assert_int_equal(gale__checksum(data, sizeof data, whole), 0);
    gale__checksum_t c;
    assert_int_equal(gale__checksum_init(&c), 0);
    for (size_t off = 0; off < sizeof data; off += 333) {
        size_t n = sizeof data - off < 333 ? sizeof data - off : 333;
        gale__checksum_update(&c, data + off, n);
        gale__checksum_update(&c, NULL, 0);
    }
    gale__checksum_final(&c, parts);
    assert_memory_equal(whole, parts, sizeof whole);
    data[5000] ^= 1;
    assert_int_equal(gale__checksum(data, sizeof data, parts), 0);
    assert_memory_not_equal(whole, parts, sizeof whole);
    assert_int_equal(gale__checksum_init(NULL), GALE_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_header_garbage),
        cmocka_unit_test(test_body_garbage),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
