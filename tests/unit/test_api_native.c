/* Unit tests of the RESTCONF <-> config translation (api_native.c) without a store: the JSON of a
 * model turns back into the same model (round trip), the text it makes is what IOS would say, and
 * what must be refused (unknown members, wrong types, strings that would break a config line) is
 * refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_handlers.h"
#include "store/cfg.h"

static const char reference[] =
    "hostname R1\n"
    "aaa new-model\n"
    "aaa authentication login default group tacacs+ local\n"
    "aaa authentication login VTY none\n"
    "aaa authorization exec default local if-authenticated\n"
    "username tiger privilege 15 secret 9 "
    "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6\n"
    "username guest privilege 1\n"
    "ip ssh time-out 60\n"
    "ip ssh authentication-retries 2\n"
    "ip ssh pubkey-chain\n"
    " username tiger\n"
    "  key-hash ssh-rsa 2AE2B4F52DFE7B6F5C43734862CB7DC9 tiger@laptop\n"
    "ip scp server enable\n"
    "login block-for 120 attempts 3 within 60\n"
    "aaa group server tacacs+ TAC\n server name T1\n server name T2\n deadtime 5\n"
    "aaa group server radius RAD\n server name R1\n"
    "aaa accounting exec default start-stop group TAC group tacacs+\n"
    "aaa accounting commands 15 default stop-only group TAC\n"
    "tacacs server T1\n address ipv4 127.0.0.1\n key 0 k1\n port 4949\n timeout 2\n"
    " single-connection\n"
    "tacacs server T2\n address ipv6 ::1\n"
    "radius server R1\n address ipv4 10.0.0.1 auth-port 1645 acct-port 1646\n key 7 0822455D0A16\n"
    " retransmit 2\n"
    "radius-server dead-criteria time 5 tries 3\n"
    "radius-server deadtime 1\n";

static struct cfg *parse(const char *text)
{
    return cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, NULL);
}

/* cfg -> native JSON -> text -> cfg gives the same cfg, with and without defaults. */
static void test_round_trip(void **state)
{
    struct cfg *c = parse(reference);
    assert_non_null(c);
    for (int defaults = 0; defaults < 2; defaults++) {
        json_t *j = api_native_json(c, defaults);
        json_t *doc = json_pack("{s:o}", "Cisco-IOS-XE-native:native", j);
        char *s = json_dumps(doc, 0);
        char why[256] = "";
        char *text = api_native_text(s, strlen(s), why, sizeof why);
        assert_non_null(text);
        struct cfg *c2 = parse(text);
        assert_non_null(c2);
        /* with defaults the tree carries ssh version 2, which the text then gives explicitly
         * (`ip ssh version 2` is shown once typed): the same setting, typed or not */
        if (defaults)
            c2->ssh_version_set = c->ssh_version_set;
        assert_true(cfg_equal(c, c2));
        /* keys go out as type 6 only */
        assert_non_null(strstr(s, "\"encryption\": \"6\""));
        assert_null(strstr(s, "k1\""));
        cfg_free(c2);
        free(text);
        free(s);
        json_decref(doc);
    }
    cfg_free(c);
}

static void test_qualified_names(void **state)
{
    struct cfg *c = parse(reference);
    json_t *j = api_native_json(c, false);
    json_t *aaa = json_object_get(j, "aaa");
    assert_non_null(json_object_get(aaa, "Cisco-IOS-XE-aaa:new-model"));
    assert_non_null(json_object_get(aaa, "Cisco-IOS-XE-aaa:authentication"));
    assert_null(json_object_get(aaa, "new-model"));
    json_t *u = json_array_get(json_object_get(j, "username"), 1);
    assert_string_equal(json_string_value(json_object_get(u, "name")), "tiger");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(u, "secret"), "encryption")), "9");
    json_decref(j);
    cfg_free(c);
}

static void test_text_of_a_request(void **state)
{
    static const char body[] =
        "{\"Cisco-IOS-XE-native:native\":{\"username\":[{\"name\":\"bob\",\"privilege\":15,"
        "\"password\":{\"encryption\":\"0\",\"password\":\"pw\"}}],"
        "\"ip\":{\"scp\":{\"server\":{\"enable\":[null]}}}}}";
    char why[256];
    char *text = api_native_text(body, sizeof body - 1, why, sizeof why);
    assert_non_null(text);
    assert_string_equal(text,
                        "username bob privilege 15 password 0 pw\nip scp server enable\nend\n");
    free(text);
}

/* `username NAME` alone is no command: an entry with neither credential nor privilege (what a
 * DELETE of .../username=u2/privilege leaves) is said with the default privilege. */
static void test_user_without_secret_or_privilege(void **state)
{
    static const char body[] =
        "{\"Cisco-IOS-XE-native:native\":{\"username\":[{\"name\":\"u2\"},"
        "{\"name\":\"u3\",\"secret\":{\"encryption\":\"0\",\"secret\":\"pw\"}}]}}";
    char why[256];
    char *text = api_native_text(body, sizeof body - 1, why, sizeof why);
    assert_non_null(text);
    assert_string_equal(text, "username u2 privilege 1\nusername u3 secret 0 pw\nend\n");
    free(text);
}

static void test_refusals(void **state)
{
    static const struct {
        const char *json, *reason;
    } bad[] = {
        {"{\"Cisco-IOS-XE-native:native\":{\"colour\":1}}", "unknown element"},
        {"{\"Cisco-IOS-XE-native:native\":{\"hostname\":\"a\",\"hostname\":\"b\"}}",
         "malformed JSON"},
        {"{\"Cisco-IOS-XE-native:native\":{\"hostname\":\"a b\"}}", "space"},
        {"{\"Cisco-IOS-XE-native:native\":{\"hostname\":\"a\\nip scp server enable\"}}", "control"},
        {"{\"Cisco-IOS-XE-native:native\":{\"username\":[{\"name\":\"x\",\"privilege\":\"1\"}]}}",
         "integer"},
        {"{\"Cisco-IOS-XE-native:native\":{\"username\":[{\"name\":\"x\"},{\"name\":\"x\"}]}}",
         "duplicate"},
        {"{\"Cisco-IOS-XE-native:native\":{\"ip\":{\"scp\":{\"server\":{\"enable\":true}}}}}",
         "[null]"},
        {"{\"Cisco-IOS-XE-native:native\":{\"login\":{\"block-for\":{\"seconds\":5}}}}",
         "needs seconds"},
        {"{\"native\":{}}", "want"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256] = "";
        char *t = api_native_text(bad[i].json, strlen(bad[i].json), why, sizeof why);
        if (t != NULL)
            fail_msg("accepted: %s -> %s", bad[i].json, t);
        if (strstr(why, bad[i].reason) == NULL)
            fail_msg("%s: reason '%s' lacks '%s'", bad[i].json, why, bad[i].reason);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_qualified_names),
        cmocka_unit_test(test_text_of_a_request),
        cmocka_unit_test(test_user_without_secret_or_privilege),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
