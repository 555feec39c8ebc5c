/* Unit tests of daemon/nc_proto (RFC 6242 framing, hello and rpc parsing, replies) and of the XML
 * side of model/model_native: a message split anywhere arrives whole, chunked framing follows the
 * ABNF of RFC 6242 section 4.2 and refuses what breaks it, an over-large message is refused
 * before it is buffered whole, and XML data reaches the canonical tree through libyang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/nc_proto.h"
#include "model/model_native.h"
#include "store/cfg.h"

struct got {
    int n;
    char last[512];
    bool switch_after_first;
    struct nc_framer *fr;
};

static int on_msg(void *arg, const char *msg, size_t len)
{
    struct got *g = arg;
    g->n++;
    snprintf(g->last, sizeof g->last, "%.*s", (int)len, msg);
    if (g->switch_after_first && g->n == 1)
        g->fr->chunked = true;
    return 0;
}

/* Every split of one stream gives the same messages. */
static void test_eom_any_split(void **state)
{
    static const char stream[] = "<a/>]]>]]><b>x]]</b>]]>]]>";
    for (size_t cut = 0; cut <= sizeof stream - 1; cut++) {
        struct nc_framer fr;
        struct got g = {0};
        char why[128];
        nc_framer_init(&fr, 1024);
        assert_int_equal(nc_framer_feed(&fr, stream, cut, on_msg, &g, why, sizeof why), 0);
        assert_int_equal(nc_framer_feed(&fr, stream + cut, sizeof stream - 1 - cut, on_msg, &g,
                                        why, sizeof why), 0);
        assert_int_equal(g.n, 2);
        assert_string_equal(g.last, "<b>x]]</b>");
        nc_framer_free(&fr);
    }
}

/* The hello is end-of-message framed; the bytes after it in the same read are chunks. */
static void test_switch_to_chunks_mid_read(void **state)
{
    static const char stream[] = "<hello/>]]>]]>\n#3\nabc\n#2\nde\n##\n";
    struct nc_framer fr;
    struct got g = {.switch_after_first = true, .fr = &fr};
    char why[128];
    nc_framer_init(&fr, 1024);
    assert_int_equal(nc_framer_feed(&fr, stream, sizeof stream - 1, on_msg, &g, why, sizeof why),
                     0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.last, "abcde");
    nc_framer_free(&fr);
}

static void test_chunk_errors(void **state)
{
    static const char *const bad[] = {
        "\n#0\n",             /* chunk-size starts with 1-9 */
        "\n##\n",             /* end-of-chunks without a chunk */
        "#3\nabc\n##\n",      /* no LF before the hash */
        "\n#4294967296\n",    /* over the largest chunk-size */
        "\n#12345678901\n",   /* more than 10 digits */
        "\n#3x\n",
        "\n#3\nabc\n#\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct nc_framer fr;
        struct got g = {0};
        char why[128] = "";
        nc_framer_init(&fr, 1u << 20);
        fr.chunked = true;
        if (nc_framer_feed(&fr, bad[i], strlen(bad[i]), on_msg, &g, why, sizeof why) != -1)
            fail_msg("accepted: %zu", i);
        assert_non_null(strstr(why, "chunked framing"));
        nc_framer_free(&fr);
    }
}

static void test_size_limit(void **state)
{
    char big[300];
    struct nc_framer fr;
    struct got g = {0};
    char why[128] = "";
    memset(big, 'x', sizeof big);
    nc_framer_init(&fr, 256);
    assert_int_equal(nc_framer_feed(&fr, big, sizeof big, on_msg, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "larger than 256"));
    assert_true(fr.cap <= 4096);   /* refused as it grew, not after buffering everything */
    nc_framer_free(&fr);
    /* chunked: a chunk announced larger than the limit fails as its data arrives */
    nc_framer_init(&fr, 256);
    fr.chunked = true;
    static const char hdr[] = "\n#1000\n";
    assert_int_equal(nc_framer_feed(&fr, hdr, sizeof hdr - 1, on_msg, &g, why, sizeof why), 0);
    assert_int_equal(nc_framer_feed(&fr, big, sizeof big, on_msg, &g, why, sizeof why), -1);
    nc_framer_free(&fr);
}

static void test_frame_out(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    nc_frame(f, true, "<ok/>", 5);
    nc_frame(f, false, "<ok/>", 5);
    fclose(f);
    assert_string_equal(buf, "\n#5\n<ok/>\n##\n<ok/>]]>]]>");
    free(buf);
}

static void test_hello(void **state)
{
    static const char h11[] =
        "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>"
        "<capability>urn:ietf:params:netconf:base:1.0</capability>"
        "<capability> urn:ietf:params:netconf:base:1.1 </capability></capabilities></hello>";
    static const char h10[] =
        "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>"
        "<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>";
    static const char with_sid[] =
        "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>"
        "<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities>"
        "<session-id>4</session-id></hello>";
    struct nc_err e;
    bool b11 = false;
    memset(&e, 0, sizeof e);
    assert_int_equal(nc_hello_parse(h11, sizeof h11 - 1, &b11, &e), 0);
    assert_true(b11);
    assert_int_equal(nc_hello_parse(h10, sizeof h10 - 1, &b11, &e), 0);
    assert_false(b11);
    assert_int_equal(nc_hello_parse(with_sid, sizeof with_sid - 1, &b11, &e), -1);
    assert_int_equal(nc_hello_parse("<hello>", 7, &b11, &e), -1);
    assert_string_equal(e.tag, "malformed-message");
}

static void test_rpc(void **state)
{
    static const char ok[] =
        "<rpc message-id=\"101\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
        "xmlns:ex=\"urn:example\" ex:user-id=\"fred\"><get/></rpc>";
    struct nc_rpc rpc;
    struct nc_err e;
    memset(&e, 0, sizeof e);
    assert_int_equal(nc_rpc_parse(ok, sizeof ok - 1, &rpc, &e), 0);
    assert_string_equal(rpc.message_id, "101");
    assert_string_equal((const char *)rpc.op->name, "get");
    /* RFC 6241 section 4.2: the reply carries every attribute of the rpc */
    assert_non_null(strstr(rpc.attrs, "message-id=\"101\""));
    assert_non_null(strstr(rpc.attrs, "ex:user-id=\"fred\""));
    assert_non_null(strstr(rpc.attrs, "xmlns:ex=\"urn:example\""));
    nc_rpc_free(&rpc);

    static const struct {
        const char *xml, *tag;
    } bad[] = {
        {"<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get/></rpc>",
         "missing-attribute"},
        {"<rpc message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"></rpc>",
         "missing-element"},
        {"<rpc message-id=\"1\"><get/></rpc>", "unknown-element"},
        {"<rpc message-id=\"1\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get>",
         "malformed-message"},
        {"<!DOCTYPE r [<!ENTITY a \"b\">]><rpc message-id=\"1\" "
         "xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get/></rpc>",
         "malformed-message"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(nc_rpc_parse(bad[i].xml, strlen(bad[i].xml), &rpc, &e), -1);
        if (strcmp(e.tag, bad[i].tag) != 0)
            fail_msg("%s: tag %s, want %s (%s)", bad[i].xml, e.tag, bad[i].tag, e.msg);
        nc_rpc_free(&rpc);
    }
}

static void test_reply_escapes(void **state)
{
    struct nc_err e;
    char *buf = NULL;
    size_t len = 0;
    memset(&e, 0, sizeof e);
    nc_err_set(&e, "application", "invalid-value", "bad <value> & more");
    snprintf(e.path, sizeof e.path, "/native/hostname");
    FILE *f = open_memstream(&buf, &len);
    nc_reply_error(f, " message-id=\"3\"", &e);
    fclose(f);
    assert_non_null(strstr(buf, "<error-message xml:lang=\"en\">bad &lt;value&gt; &amp; more"));
    assert_non_null(strstr(buf, "<error-path>/native/hostname</error-path>"));
    assert_non_null(strstr(buf, "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
                                "message-id=\"3\">"));
    free(buf);
}

/* XML -> canonical tree -> config text: the same text as the JSON door makes. */
static void test_xml_to_text(void **state)
{
    static const char xml[] =
        "<native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\"><hostname>R1</hostname>"
        "<aaa><new-model xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-aaa\"/></aaa>"
        "<ip><ssh><time-out>60</time-out></ssh><scp><server><enable/></server></scp></ip>"
        "</native>";
    json_t *t = NULL;
    struct model_err me;
    size_t len;
    memset(&me, 0, sizeof me);
    assert_int_equal(model_native_from_xml(xml, &t, &me), 0);
    char *text = model_native_text(t, &len, &me);
    assert_string_equal(text, "hostname R1\naaa new-model\nip ssh time-out 60\n"
                              "ip scp server enable\nend\n");
    free(text);
    json_decref(t);

    static const struct {
        const char *xml, *tag;
    } bad[] = {
        {"<native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\"><colour/></native>",
         "unknown-element"},
        {"<native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\"><ip><ssh><time-out>x"
         "</time-out></ssh></ip></native>", "invalid-value"},
        {"<native xmlns=\"urn:other\"/>", "unknown-element"},
        {"<native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\"><hostname>a b"
         "</hostname></native>", "invalid-value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&me, 0, sizeof me);
        t = NULL;
        if (model_native_from_xml(bad[i].xml, &t, &me) == 0)
            fail_msg("accepted %s", bad[i].xml);
        if (strcmp(me.tag, bad[i].tag) != 0)
            fail_msg("%s: tag %s want %s (%s)", bad[i].xml, me.tag, bad[i].tag, me.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eom_any_split),      cmocka_unit_test(test_switch_to_chunks_mid_read),
        cmocka_unit_test(test_chunk_errors),       cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_frame_out),          cmocka_unit_test(test_hello),
        cmocka_unit_test(test_rpc),                cmocka_unit_test(test_reply_escapes),
        cmocka_unit_test(test_xml_to_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
