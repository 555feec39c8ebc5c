/* Unit tests of daemon/netconf_data (and model_native's carry-over of lines outside the model)
 * without a session or a store: edit-config's operations on a
 * running configuration give the config text IOS would hold (merge by list key, replace, create,
 * delete, remove, default-operation), their errors have the RFC 6241 tags, and filters select what
 * RFC 6241 section 6 says (subtree content matches, selection nodes, XPath). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "daemon/netconf_data.h"
#include "model/model_native.h"
#include "store/cfg.h"

#define NS "xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\" " \
           "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\""

static const char running_text[] = "hostname R1\n"
                                   "username a privilege 3\n"
                                   "username b privilege 5\n"
                                   "ip ssh time-out 60\n";

static struct cfg *running(void)
{
    struct cfg_errors errs;
    struct cfg *c = cfg_apply_text(NULL, running_text, sizeof running_text - 1, CFG_REPLACE,
                                   &errs);
    assert_non_null(c);
    return c;
}

/* <config>inner</config> applied with dop: the text, or NULL with e. */
static char *edit(const char *inner, enum nc_eop dop, struct nc_err *e)
{
    char xml[2048];
    snprintf(xml, sizeof xml, "<config><native " NS ">%s</native></config>", inner);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct cfg *c = running();
    json_t *out = NULL;
    char *text = NULL;
    memset(e, 0, sizeof *e);
    if (nc_edit(c, xmlDocGetRootElement(doc), dop, &out, e) == 0) {
        struct model_err me;
        size_t len;
        memset(&me, 0, sizeof me);
        model_prune(out);
        text = model_native_text(out, &len, &me);
        json_decref(out);
    }
    cfg_free(c);
    xmlFreeDoc(doc);
    return text;
}

static void expect(const char *inner, enum nc_eop dop, const char *want)
{
    struct nc_err e;
    char *t = edit(inner, dop, &e);
    if (t == NULL)
        fail_msg("%s: refused: %s %s", inner, e.tag, e.msg);
    if (strcmp(t, want) != 0)
        fail_msg("%s:\ngot:\n%swant:\n%s", inner, t, want);
    free(t);
}

static void refused(const char *inner, enum nc_eop dop, const char *tag)
{
    struct nc_err e;
    char *t = edit(inner, dop, &e);
    if (t != NULL)
        fail_msg("%s accepted:\n%s", inner, t);
    if (strcmp(e.tag, tag) != 0)
        fail_msg("%s: tag %s, want %s (%s)", inner, e.tag, tag, e.msg);
}

static void test_merge(void **state)
{
    expect("<hostname>R2</hostname><username><name>a</name><privilege>7</privilege></username>"
           "<username><name>c</name><privilege>1</privilege></username>",
           NC_EOP_MERGE,
           "hostname R2\nusername a privilege 7\nusername b privilege 5\nusername c privilege 1\n"
           "ip ssh time-out 60\nend\n");
}

static void test_create_delete_remove_replace(void **state)
{
    expect("<username nc:operation=\"create\"><name>c</name><privilege>2</privilege></username>",
           NC_EOP_MERGE,
           "hostname R1\nusername a privilege 3\nusername b privilege 5\nusername c privilege 2\n"
           "ip ssh time-out 60\nend\n");
    refused("<username nc:operation=\"create\"><name>a</name></username>", NC_EOP_MERGE,
            "data-exists");
    expect("<username nc:operation=\"delete\"><name>a</name></username>"
           "<ip><ssh><time-out nc:operation=\"delete\"/></ssh></ip>", NC_EOP_MERGE,
           "hostname R1\nusername b privilege 5\nend\n");
    refused("<username nc:operation=\"delete\"><name>zz</name></username>", NC_EOP_MERGE,
            "data-missing");
    expect("<username nc:operation=\"remove\"><name>zz</name></username>", NC_EOP_MERGE,
           "hostname R1\nusername a privilege 3\nusername b privilege 5\nip ssh time-out 60\n"
           "end\n");
    /* replace of a container: what it held before goes */
    expect("<ip nc:operation=\"replace\"><scp><server><enable/></server></scp></ip>", NC_EOP_MERGE,
           "hostname R1\nusername a privilege 3\nusername b privilege 5\nip scp server enable\n"
           "end\n");
    refused("<hostname nc:operation=\"frobnicate\">x</hostname>", NC_EOP_MERGE, "bad-attribute");
}

static void test_default_operations(void **state)
{
    expect("<hostname>R9</hostname>", NC_EOP_REPLACE, "hostname R9\nend\n");
    /* none: nothing is created by an element without an operation */
    expect("<hostname>R9</hostname><username nc:operation=\"delete\"><name>b</name></username>",
           NC_EOP_NONE,
           "hostname R1\nusername a privilege 3\nip ssh time-out 60\nend\n");
}

static void test_model_errors(void **state)
{
    refused("<colour>red</colour>", NC_EOP_MERGE, "unknown-element");
    refused("<ip><ssh><time-out>abc</time-out></ssh></ip>", NC_EOP_MERGE, "invalid-value");
    refused("<hostname>a b</hostname>", NC_EOP_MERGE, "invalid-value");
}

static char *select_xml(const char *filter)
{
    char xml[1024];
    snprintf(xml, sizeof xml, "<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">%s"
                              "</get-config>", filter);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    struct nc_filter f;
    struct nc_err e;
    memset(&e, 0, sizeof e);
    assert_int_equal(nc_filter_parse(xmlDocGetRootElement(doc), &f, &e), 0);
    struct cfg *c = running();
    char *out = nc_data_xml(c, &f, &e);
    if (out == NULL)
        fail_msg("%s: %s", filter, e.msg);
    nc_filter_free(&f);
    cfg_free(c);
    xmlFreeDoc(doc);
    return out;
}

static void test_filters(void **state)
{
    static const struct {
        const char *filter;
        const char *has[2], *lacks[2];
    } cases[] = {
        /* a content match selects its entry whole */
        {"<filter><native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\">"
         "<username><name>b</name></username></native></filter>",
         {"<name>b</name><privilege>5</privilege>", NULL}, {"<name>a</name>", "hostname"}},
        /* selection nodes select just themselves */
        {"<filter><native xmlns=\"http://cisco.com/ns/yang/Cisco-IOS-XE-native\">"
         "<hostname/><ip><ssh><time-out/></ssh></ip></native></filter>",
         {"<hostname>R1</hostname>", "<time-out>60</time-out>"}, {"username", NULL}},
        {"<filter type=\"xpath\" "
         "select=\"/Cisco-IOS-XE-native:native/username[privilege&gt;4]\"/>",
         {"<name>b</name>", NULL}, {"<name>a</name>", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *x = select_xml(cases[i].filter);
        for (int k = 0; k < 2; k++) {
            if (cases[i].has[k] && strstr(x, cases[i].has[k]) == NULL)
                fail_msg("%s: lacks %s:\n%s", cases[i].filter, cases[i].has[k], x);
            if (cases[i].lacks[k] && strstr(x, cases[i].lacks[k]) != NULL)
                fail_msg("%s: holds %s:\n%s", cases[i].filter, cases[i].lacks[k], x);
        }
        free(x);
    }
    /* a namespace without a module selects nothing */
    char *x = select_xml("<filter><other xmlns=\"urn:example\"/></filter>");
    assert_string_equal(x, "");
    free(x);
}

/* A config line without a YANG node (another door's command, a later feature) is carried over by
 * every write through the model, with its sub-mode lines; the model's own lines are not. */
static void test_unmodelled_lines_kept(void **state)
{
    static const char rendered[] = "!\n"
                                   "hostname R1\n"
                                   "enable secret 9 $9$abc\n"
                                   "username a privilege 3\n"
                                   "line vty 0 4\n"
                                   " transport input ssh\n"
                                   "ip ssh time-out 60\n"
                                   "ip ssh pubkey-chain\n"
                                   " username a\n"
                                   "  key-hash ssh-rsa 00 a@b\n"
                                   "ip ssh source-interface lo0\n"
                                   "ip scp server enable\n"
                                   "!\n"
                                   "end\n";
    char *k = model_native_unmodelled(rendered);
    assert_string_equal(k, "enable secret 9 $9$abc\nline vty 0 4\n transport input ssh\n"
                           "ip ssh source-interface lo0\n");
    free(k);
    /* every line of today's language is modelled: nothing is carried over */
    struct cfg *c = running();
    struct cfg_render_opts ro = {0};
    char *r = cfg_render(c, &ro, NULL);
    k = model_native_unmodelled(r);
    assert_string_equal(k, "");
    free(k);
    free(r);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_create_delete_remove_replace),
        cmocka_unit_test(test_default_operations),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_unmodelled_lines_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
