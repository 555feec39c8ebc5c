/* nc_proto: NETCONF framing and messages (see nc_proto.h).
 *
 * Framing. Both decoders take one byte at a time through a small state machine (the chunk data
 * in bulk), so the hello, which is always end-of-message framed, can switch the stream to chunks
 * between two bytes of one read (RFC 6242 section 4.1). A message is bounded by f->max as it
 * grows; a framing error ends the session, since nothing after it can be trusted to be a
 * message boundary.
 *
 * XML. libxml2 parses without network access, without loading or expanding external entities,
 * and a document type declaration is refused outright (RFC 6241 does not use DTDs; refusing them
 * closes entity expansion attacks). libxml2's errors are per thread; its message reaches the
 * client as the rpc-error's error-message. */
#include "daemon/nc_proto.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "base/lim.h"

void nc_proto_init(void)
{
    xmlInitParser();
}

int nc_err_set(struct nc_err *e, const char *type, const char *tag, const char *fmt, ...)
{
    va_list ap;

    e->type = type;
    e->tag = tag;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- framing --------------------------------------------------------------------------------- */

enum { CH_LF, CH_HASH, CH_FIRST, CH_SIZE, CH_DATA, CH_END_LF };

void nc_framer_init(struct nc_framer *f, size_t max)
{
    memset(f, 0, sizeof *f);
    f->max = max;
}

void nc_framer_free(struct nc_framer *f)
{
    free(f->buf);
    f->buf = NULL;
    f->len = f->cap = 0;
}

static int fr_put(struct nc_framer *f, const char *p, size_t n, char *why, size_t cap)
{
    if (f->len + n + 1 > f->max + 1 || f->len + n < f->len) {
        snprintf(why, cap, "message larger than %zu bytes", f->max);
        return -1;
    }
    if (f->len + n + 1 > f->cap) {
        size_t ncap = f->cap ? f->cap : 4096;
        while (ncap < f->len + n + 1)
            ncap *= 2;
        char *nb = realloc(f->buf, ncap);
        if (nb == NULL) {
            snprintf(why, cap, "out of memory");
            return -1;
        }
        f->buf = nb;
        f->cap = ncap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

static int fr_deliver(struct nc_framer *f, size_t len, nc_msg_fn fn, void *arg)
{
    f->buf[len] = '\0';
    int rc = fn(arg, f->buf, len);
    f->len = 0;
    f->st = CH_LF;
    f->any_chunk = false;
    return rc;
}

static const char eom[] = "]]>]]>";

int nc_framer_feed(struct nc_framer *f, const char *p, size_t n, nc_msg_fn fn, void *arg,
                   char *why, size_t cap)
{
    size_t i = 0;
    unsigned char badc = 0;

    while (i < n) {
        if (!f->chunked) {
            if (fr_put(f, p + i, 1, why, cap) < 0)
                return -1;
            i++;
            if (f->len >= 6 && memcmp(f->buf + f->len - 6, eom, 6) == 0) {
                int rc = fr_deliver(f, f->len - 6, fn, arg);
                if (rc != 0)
                    return rc;
            }
            continue;
        }
        char c = p[i];
        badc = (unsigned char)c;
        switch (f->st) {
        case CH_LF:
            if (c != '\n')
                goto bad;
            f->st = CH_HASH;
            i++;
            break;
        case CH_HASH:
            if (c != '#')
                goto bad;
            f->st = CH_FIRST;
            i++;
            break;
        case CH_FIRST:
            i++;
            if (c == '#') {
                if (!f->any_chunk)
                    goto bad;
                f->st = CH_END_LF;
            } else if (c >= '1' && c <= '9') {
                f->left = (uint64_t)(c - '0');
                f->digits = 1;
                f->st = CH_SIZE;
            } else {
                goto bad;
            }
            break;
        case CH_SIZE:
            i++;
            if (c == '\n') {
                if (f->left > 4294967295u)
                    goto bad;
                f->st = CH_DATA;
            } else if (c >= '0' && c <= '9' && f->digits < LIM_NETCONF_CHUNK_DIGITS) {
                f->left = f->left * 10 + (uint64_t)(c - '0');
                f->digits++;
            } else {
                goto bad;
            }
            break;
        case CH_DATA: {
            size_t take = n - i < f->left ? n - i : (size_t)f->left;
            if (fr_put(f, p + i, take, why, cap) < 0)
                return -1;
            i += take;
            f->left -= take;
            if (f->left == 0) {
                f->any_chunk = true;
                f->st = CH_LF;
            }
            break;
        }
        case CH_END_LF: {
            if (c != '\n')
                goto bad;
            i++;
            int rc = fr_deliver(f, f->len, fn, arg);
            if (rc != 0)
                return rc;
            break;
        }
        }
    }
    return 0;
bad:
    snprintf(why, cap, "bad chunked framing (RFC 6242 section 4.2) at byte 0x%02x", badc);
    return -1;
}

void nc_frame(FILE *out, bool chunked, const char *msg, size_t len)
{
    if (chunked) {
        if (len > 0)
            fprintf(out, "\n#%zu\n", len);
        fwrite(msg, 1, len, out);
        fputs("\n##\n", out);
    } else {
        fwrite(msg, 1, len, out);
        fputs(eom, out);
    }
}

/* ---- XML ------------------------------------------------------------------------------------- */

static xmlDocPtr xml_read(const char *msg, size_t len, struct nc_err *e)
{
    if (len > (size_t)0x7fffffff) {
        nc_err_set(e, "rpc", "too-big", "message too large");
        return NULL;
    }
    xmlResetLastError();
    xmlDocPtr doc = xmlReadMemory(msg, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *xe = xmlGetLastError();
        char m[256] = "not well-formed XML";
        if (xe != NULL && xe->message != NULL) {
            snprintf(m, sizeof m, "%s", xe->message);
            size_t l = strlen(m);
            while (l > 0 && (m[l - 1] == '\n' || m[l - 1] == ' '))
                m[--l] = '\0';
        }
        nc_err_set(e, "rpc", "malformed-message", "malformed XML: %s%s%d", m,
                   xe ? " at line " : "", xe ? xe->line : 0);
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        xmlFreeDoc(doc);
        nc_err_set(e, "rpc", "malformed-message", "a document type declaration is not allowed");
        return NULL;
    }
    return doc;
}

static bool is_ns(xmlNodePtr n, const char *ns)
{
    return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr nc_first_elem(xmlNodePtr parent)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

xmlNodePtr nc_child(xmlNodePtr parent, const char *name, const char *ns)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0 &&
            (ns == NULL || is_ns(c, ns)))
            return c;
    return NULL;
}

bool nc_child_text(xmlNodePtr parent, const char *name, char *buf, size_t cap)
{
    xmlNodePtr c = nc_child(parent, name, NULL);
    if (c == NULL)
        return false;
    xmlChar *t = xmlNodeGetContent(c);
    const char *p = t ? (const char *)t : "";
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    snprintf(buf, cap, "%s", p);
    size_t l = strlen(buf);
    while (l > 0 && strchr(" \n\t\r", buf[l - 1]))
        buf[--l] = '\0';
    xmlFree(t);
    return true;
}

void nc_xml_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

int nc_hello_parse(const char *msg, size_t len, bool *base11, struct nc_err *e)
{
    xmlDocPtr doc = xml_read(msg, len, e);
    bool b10 = false, b11 = false;

    if (doc == NULL)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "hello") != 0 ||
        !is_ns(root, NC_NS_BASE)) {
        xmlFreeDoc(doc);
        return nc_err_set(e, "protocol", "malformed-message",
                          "expected the client's <hello> in " NC_NS_BASE);
    }
    if (nc_child(root, "session-id", NC_NS_BASE) != NULL) {
        xmlFreeDoc(doc);   /* RFC 6241 section 8.1: a client's hello carries no session-id */
        return nc_err_set(e, "protocol", "malformed-message", "a client hello has no session-id");
    }
    xmlNodePtr caps = nc_child(root, "capabilities", NC_NS_BASE);
    for (xmlNodePtr c = caps ? caps->children : NULL; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "capability") != 0)
            continue;
        xmlChar *t = xmlNodeGetContent(c);
        if (t != NULL) {
            const char *s = (const char *)t;
            while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
                s++;
            size_t l = strlen(s);
            while (l > 0 && strchr(" \n\t\r", s[l - 1]))
                l--;
            if (l == strlen(NC_CAP_BASE10) && memcmp(s, NC_CAP_BASE10, l) == 0)
                b10 = true;
            if (l == strlen(NC_CAP_BASE11) && memcmp(s, NC_CAP_BASE11, l) == 0)
                b11 = true;
            xmlFree(t);
        }
    }
    xmlFreeDoc(doc);
    if (!b10 && !b11)
        return nc_err_set(e, "protocol", "malformed-message",
                          "the client's hello names neither base:1.0 nor base:1.1");
    *base11 = b11;
    return 0;
}

/* The <rpc>'s attributes and namespace declarations, escaped, for the reply. */
static char *rpc_attrs(xmlNodePtr rpc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    for (xmlNsPtr ns = rpc->nsDef; ns != NULL; ns = ns->next) {
        if (ns->prefix == NULL)
            continue;   /* the default namespace is the reply's own */
        fprintf(f, " xmlns:%s=\"", (const char *)ns->prefix);
        nc_xml_escape(f, (const char *)ns->href);
        fputc('"', f);
    }
    for (xmlAttrPtr a = rpc->properties; a != NULL; a = a->next) {
        xmlChar *v = xmlNodeListGetString(rpc->doc, a->children, 1);
        if (a->ns != NULL && a->ns->prefix != NULL)
            fprintf(f, " %s:%s=\"", (const char *)a->ns->prefix, (const char *)a->name);
        else
            fprintf(f, " %s=\"", (const char *)a->name);
        nc_xml_escape(f, v ? (const char *)v : "");
        fputc('"', f);
        xmlFree(v);
    }
    fclose(f);
    return buf;
}

int nc_rpc_parse(const char *msg, size_t len, struct nc_rpc *rpc, struct nc_err *e)
{
    memset(rpc, 0, sizeof *rpc);
    rpc->doc = xml_read(msg, len, e);
    if (rpc->doc == NULL)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(rpc->doc);
    if (root == NULL || strcmp((const char *)root->name, "rpc") != 0 || !is_ns(root, NC_NS_BASE))
        return nc_err_set(e, "protocol", "unknown-element",
                          "expected <rpc> in namespace " NC_NS_BASE);
    rpc->attrs = rpc_attrs(root);
    xmlChar *id = xmlGetProp(root, (const xmlChar *)"message-id");
    if (id == NULL) {
        snprintf(e->info, sizeof e->info,
                 "<bad-attribute>message-id</bad-attribute><bad-element>rpc</bad-element>");
        return nc_err_set(e, "rpc", "missing-attribute", "the <rpc> has no message-id");
    }
    snprintf(rpc->message_id, sizeof rpc->message_id, "%s", (const char *)id);
    xmlFree(id);
    rpc->op = nc_first_elem(root);
    if (rpc->op == NULL) {
        snprintf(e->info, sizeof e->info, "<bad-element>rpc</bad-element>");
        return nc_err_set(e, "rpc", "missing-element", "the <rpc> names no operation");
    }
    return 0;
}

void nc_rpc_free(struct nc_rpc *rpc)
{
    xmlFreeDoc(rpc->doc);
    free(rpc->attrs);
    memset(rpc, 0, sizeof *rpc);
}

void nc_reply(FILE *out, const char *attrs, const char *body, size_t blen)
{
    fprintf(out, "<rpc-reply xmlns=\"" NC_NS_BASE "\"%s>", attrs ? attrs : "");
    fwrite(body, 1, blen, out);
    fputs("</rpc-reply>", out);
}

void nc_reply_error(FILE *out, const char *attrs, const struct nc_err *e)
{
    fprintf(out, "<rpc-reply xmlns=\"" NC_NS_BASE "\"%s><rpc-error><error-type>%s</error-type>"
            "<error-tag>%s</error-tag><error-severity>error</error-severity>",
            attrs ? attrs : "", e->type ? e->type : "application",
            e->tag ? e->tag : "operation-failed");
    if (e->path[0]) {
        fputs("<error-path>", out);
        nc_xml_escape(out, e->path);
        fputs("</error-path>", out);
    }
    fputs("<error-message xml:lang=\"en\">", out);
    nc_xml_escape(out, e->msg);
    fputs("</error-message>", out);
    if (e->info[0])
        fprintf(out, "<error-info>%s</error-info>", e->info);
    fputs("</rpc-error></rpc-reply>", out);
}
