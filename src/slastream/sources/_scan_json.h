/* A capture line of the two dominant shapes read straight from its bytes (_scan.c).
 *
 * The bridge writes {"received_at":"...","topic":"...","payload":{...}}. For a gateway
 * uplink or an integration event/up, scan_line checks the whole line as JSON (RFC 8259)
 * and picks out the fields the row needs, without the typed read's objects. It answers
 * only when sure: a line it accepts is one the typed read (shapes.Line) accepts too, with
 * the same values in those fields. Anything else (another key order, an escape in a
 * string, a byte that is not ASCII (outside strings JSON's grammar refuses it), a
 * number it does not read, a repeated key, a field of another type than
 * shapes.Payload declares, deep nesting, invalid JSON) gets 0, and the line takes the
 * typed read as before: this code never rejects a line, it only declines it.
 */
#ifndef SLASTREAM_SCAN_JSON_H
#define SLASTREAM_SCAN_JSON_H

#include <stdint.h>
#include <string.h>

typedef struct {
    const char *p;
    Py_ssize_t n; /* -1: absent; -2: present but not a string (null, a number, ...) */
} Raw;

typedef struct {
    Raw received_at, topic;
    Raw phy;       /* payload.phyPayload */
    int rx;        /* payload.rxInfo: 0 absent or null, 1 an object, 2 a list of them */
    Raw crc;       /* payload.rxInfo.crcStatus */
    Raw devaddr;   /* payload.devAddr */
    int64_t fcnt;  /* payload.fCnt: 0 when absent, -1 when not a plain integer */
    int devinfo;   /* payload.deviceInfo: 0 absent or null, 1 an object */
    Raw tenant;    /* payload.deviceInfo.tenantId */
} Fields;

#define MAX_DEPTH 32

typedef struct {
    const char *p, *end;
    /* 1: decline a number with an exponent or of more than 32 characters, the numbers
     * that can overflow a double, which orjson refuses and the typed read accepts
     * (_scan_bridge.h reads payloads the router would parse with orjson) */
    int finite;
} Cursor;

static inline void ws(Cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

static inline int lit(Cursor *c, const char *word, Py_ssize_t n)
{
    if (c->end - c->p < n || memcmp(c->p, word, (size_t)n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* A string at c->p (its opening quote): its content, no escapes, no control characters. */
static inline int str(Cursor *c, Raw *out)
{
    if (c->p >= c->end || *c->p != '"')
        return 0;
    const char *s = ++c->p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* eight bytes at a time to the first quote, backslash, control character or
     * non-ASCII byte */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (c->end - c->p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, c->p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w)
                       & highs;
        if (hit) {
            c->p += __builtin_ctzll(hit) >> 3; /* the first such byte, exactly */
            break;
        }
        c->p += 8;
    }
#endif
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            out->p = s;
            out->n = c->p - s;
            c->p++;
            return 1;
        }
        if (ch == '\\' || ch < 0x20 || ch >= 0x80)
            return 0; /* an escape, a control character, or not ASCII: the typed read's */
        c->p++;
    }
    return 0;
}

/* A number (RFC 8259 §6); *whole gets its value when it is a plain integer of at most 18
 * digits (no sign, fraction or exponent), else -1. */
static int number(Cursor *c, int64_t *whole)
{
    const char *s = c->p;
    int plain = 1, exponent = 0;
    if (c->p < c->end && *c->p == '-') {
        c->p++;
        plain = 0;
    }
    if (c->p >= c->end)
        return 0;
    if (*c->p == '0') {
        c->p++;
    } else if (*c->p >= '1' && *c->p <= '9') {
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    } else {
        return 0;
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        plain = 0;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        plain = 0;
        exponent = 1;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->finite && (exponent || c->p - s > 32))
        return 0;
    *whole = -1;
    if (plain && c->p - s <= 18) {
        int64_t v = 0;
        for (const char *q = s; q < c->p; q++)
            v = v * 10 + (*q - '0');
        *whole = v;
    }
    return 1;
}

static int value(Cursor *c, int depth);

/* Past the opening bracket at c->p: 1 when the container is empty (and passed too). */
static inline int opened_empty(Cursor *c, char close)
{
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A member's key and colon. */
static inline int key_colon(Cursor *c, Raw *key)
{
    if (!str(c, key))
        return 0;
    ws(c);
    if (c->p >= c->end || *c->p != ':')
        return 0;
    c->p++;
    ws(c);
    return 1;
}

/* After a member or element: 1 at the next one (past a comma), 2 past the closing
 * bracket, 0 anything else. */
static inline int after_item(Cursor *c, char close)
{
    ws(c);
    if (c->p >= c->end)
        return 0;
    if (*c->p == ',') {
        c->p++;
        ws(c);
        return 1;
    }
    if (*c->p != close)
        return 0;
    c->p++;
    return 2;
}

/* An object or array whose members are only checked. */
static int container(Cursor *c, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    char close = *c->p == '{' ? '}' : ']';
    if (opened_empty(c, close))
        return 1;
    for (;;) {
        Raw key;
        if ((close == '}' && !key_colon(c, &key)) || !value(c, depth + 1))
            return 0;
        int next = after_item(c, close);
        if (next != 1)
            return next == 2;
    }
}

/* Any value, checked and skipped. */
static int value(Cursor *c, int depth)
{
    if (c->p >= c->end)
        return 0;
    Raw skipped;
    int64_t whole;
    switch (*c->p) {
    case '"':
        return str(c, &skipped);
    case '{':
    case '[':
        return container(c, depth);
    case 't':
        return lit(c, "true", 4);
    case 'f':
        return lit(c, "false", 5);
    case 'n':
        return lit(c, "null", 4);
    default:
        return number(c, &whole);
    }
}

/* A value for a field declared ``str | None``, or Any read as a string when it is one:
 * out->n is -2 for null (or, with any_type, for a value of another type). */
static int text_field(Cursor *c, Raw *out, int any_type, int depth)
{
    if (c->p < c->end && *c->p == '"')
        return str(c, out);
    out->n = -2;
    if (any_type)
        return value(c, depth);
    return lit(c, "null", 4);
}

/* Members of an object at c->p, each key handed to member(); 0 when any is refused. */
typedef int (*Member)(Cursor *c, const char *key, Py_ssize_t n, Fields *f, unsigned *seen,
                      int depth);

static int members(Cursor *c, Fields *f, Member member, int depth)
{
    if (depth > MAX_DEPTH || c->p >= c->end || *c->p != '{')
        return 0;
    unsigned seen = 0;
    if (opened_empty(c, '}'))
        return 1;
    for (;;) {
        Raw key;
        if (!key_colon(c, &key) || !member(c, key.p, key.n, f, &seen, depth + 1))
            return 0;
        int next = after_item(c, '}');
        if (next != 1)
            return next == 2;
    }
}

#define KEY(name) (n == (Py_ssize_t)sizeof(name) - 1 && memcmp(key, name, sizeof(name) - 1) == 0)
/* a field read once: a repeated key is left to the typed read */
#define ONCE(bit)                                                                            \
    do {                                                                                     \
        if (*seen & (bit))                                                                   \
            return 0;                                                                        \
        *seen |= (bit);                                                                      \
    } while (0)

/* shapes.RxInfo: crcStatus str | None; the rest skipped. */
static int rxinfo_member(Cursor *c, const char *key, Py_ssize_t n, Fields *f, unsigned *seen,
                         int depth)
{
    if (KEY("crcStatus")) {
        ONCE(1);
        return text_field(c, &f->crc, 0, depth);
    }
    return value(c, depth);
}

/* shapes.DeviceInfo: tenantId and deviceClassEnabled Any; the rest skipped. */
static int devinfo_member(Cursor *c, const char *key, Py_ssize_t n, Fields *f, unsigned *seen,
                          int depth)
{
    if (KEY("tenantId")) {
        ONCE(1);
        return text_field(c, &f->tenant, 1, depth);
    }
    if (KEY("deviceClassEnabled")) {
        ONCE(2);
        return value(c, depth);
    }
    return value(c, depth);
}

/* shapes.TxInfo, in an uplink: its timing (typed Timing | str | None) is left to the
 * typed read; the rest skipped. */
static int txinfo_member(Cursor *c, const char *key, Py_ssize_t n, Fields *f, unsigned *seen,
                         int depth)
{
    if (KEY("timing"))
        return 0;
    return value(c, depth);
}

/* An array of objects, each member handed to member(). */
static int objects(Cursor *c, Fields *f, Member member, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    if (opened_empty(c, ']'))
        return 1;
    for (;;) {
        if (!members(c, f, member, depth + 1))
            return 0;
        int next = after_item(c, ']');
        if (next != 1)
            return next == 2;
    }
}

static int object_or_null(Cursor *c, Fields *f, Member member, int *is_object, int depth)
{
    if (c->p < c->end && *c->p == 'n') {
        *is_object = 0;
        return lit(c, "null", 4);
    }
    *is_object = 1;
    return members(c, f, member, depth);
}

/* shapes.Payload, as a gateway uplink or a delivery has it. */
static int payload_member(Cursor *c, const char *key, Py_ssize_t n, Fields *f, unsigned *seen,
                          int depth)
{
    int is_object;
    if (KEY("phyPayload")) {
        ONCE(1);
        return text_field(c, &f->phy, 0, depth);
    }
    if (KEY("rxInfo")) {
        ONCE(2);
        if (c->p < c->end && *c->p == '[') {
            f->rx = 2; /* a delivery's gateways; for a gateway's own uplink, Python's */
            return objects(c, f, rxinfo_member, depth);
        }
        return object_or_null(c, f, rxinfo_member, &f->rx, depth);
    }
    if (KEY("devAddr")) {
        ONCE(4);
        return text_field(c, &f->devaddr, 1, depth);
    }
    if (KEY("fCnt")) {
        ONCE(8);
        if (c->p < c->end && (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')))
            return number(c, &f->fcnt);
        f->fcnt = -1;
        return value(c, depth);
    }
    if (KEY("deviceInfo")) {
        ONCE(16);
        return object_or_null(c, f, devinfo_member, &f->devinfo, depth);
    }
    if (KEY("txInfo")) {
        ONCE(32);
        return object_or_null(c, f, txinfo_member, &is_object, depth);
    }
    if (KEY("items"))
        return 0; /* typed list[Item]: a downlink's; left to the typed read */
    if (KEY("downlinkId")) {
        ONCE(64);
        return value(c, depth);
    }
    return value(c, depth);
}

/* 1: the line is {"received_at":"...","topic":"...","payload":{...}} (and whitespace
 * after it), valid, with f filled; 0: anything else. */
static int scan_line(const char *s, Py_ssize_t n, Fields *f)
{
    static const char head[] = "{\"received_at\":";
    Cursor c = {s, s + n, 0};
    f->phy.n = f->crc.n = f->devaddr.n = f->tenant.n = -1;
    f->rx = f->devinfo = 0;
    f->fcnt = 0;
    if (!lit(&c, head, sizeof head - 1) || !str(&c, &f->received_at)
        || !lit(&c, ",\"topic\":", 9) || !str(&c, &f->topic)
        || !lit(&c, ",\"payload\":", 11) || !members(&c, f, payload_member, 1))
        return 0;
    if (c.p >= c.end || *c.p != '}')
        return 0;
    c.p++;
    ws(&c);
    return c.p == c.end;
}

#endif
