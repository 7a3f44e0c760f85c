/* Field values as the decoders read them: the bridge's timestamp, canonical base64, a
 * protobuf uint32 and Duration.
 * Part of _scan.c's one translation unit: included there, after its globals. */
#ifndef SLASTREAM_SCAN_FIELDS_H
#define SLASTREAM_SCAN_FIELDS_H

/* The bridge's timestamp, 2026-10-01T00:00:01.250Z, to epoch ms; -1 for any other form
 * or a field out of range (left to parse_rfc3339_ms, which accepts these and more). */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int64_t days_from_civil(int y, int m, int d)
{
    /* proleptic Gregorian calendar, days since 1970-01-01 */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static char g_head[19];
static int64_t g_head_ms = INT64_MIN;

static int64_t stamp_text(const char *s, Py_ssize_t len)
{
    if (len != 24)
        return -1;
    int ms;
    if (s[19] != '.' || s[23] != 'Z' || !digits(s + 20, 3, &ms))
        return -1;
    if (g_head_ms != INT64_MIN && memcmp(s, g_head, 19) == 0)
        return g_head_ms + ms;
    int y, mo, d, h, mi, se;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':'
        || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d)
        || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    int64_t head_ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000;
    memcpy(g_head, s, 19);
    g_head_ms = head_ms;
    return head_ms + ms;
}

static int64_t stamp_ms(PyObject *text)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_COMPACT_ASCII(text))
        return -1;
    return stamp_text((const char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text));
}

/* Canonical base64 (RFC 4648 §4, padded, nothing else) into out; its length, or -1 for
 * anything else (binascii.a2b_base64 in strict mode accepts all canonical text and
 * decodes it the same). */
static signed char b64[256];

static void b64_init(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(b64, -1, sizeof b64);
    for (int i = 0; i < 64; i++)
        b64[(unsigned char)alphabet[i]] = (signed char)i;
}

static Py_ssize_t b64_decode(const unsigned char *s, Py_ssize_t n, unsigned char *out)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > MAX_PHY)
        return -1;
    Py_ssize_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    Py_ssize_t full = n - (pad ? 4 : 0), o = 0;
    for (Py_ssize_t i = 0; i < full; i += 4) {
        int a = b64[s[i]], b = b64[s[i + 1]], c = b64[s[i + 2]], d = b64[s[i + 3]];
        if ((a | b | c | d) < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (pad) {
        const unsigned char *q = s + full;
        int a = b64[q[0]], b = b64[q[1]];
        int c = pad == 1 ? b64[q[2]] : 0;
        if ((a | b | c) < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (pad == 1)
            out[o++] = (unsigned char)(v >> 8);
    }
    return o;
}

/* A protobuf uint32 (a downlink id): the value, or -1 for anything else (null, a float, a
 * value out of range: the decoder names it). */
static int64_t uint32_of(PyObject *v)
{
    if (!PyLong_CheckExact(v))
        return -1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || x < 0 || x > 0xFFFFFFFFLL) {
        PyErr_Clear();
        return -1;
    }
    return x;
}

/* A google.protobuf.Duration in JSON ("1s", "1.500s") as whole ms, sub-ms digits dropped;
 * -1 for any other form (the decoder rejects it, or takes one this leaves to it: "1.s"). */
static int64_t duration_ms(PyObject *v)
{
    if (!PyUnicode_CheckExact(v) || !PyUnicode_IS_COMPACT_ASCII(v))
        return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(v), i = 0;
    const char *s = (const char *)PyUnicode_DATA(v);
    if (n < 2 || s[n - 1] != 's')
        return -1;
    int64_t whole = 0;
    for (; i < n - 1 && s[i] >= '0' && s[i] <= '9'; i++)
        whole = whole * 10 + (s[i] - '0');
    if (i == 0 || i > 12)
        return -1;
    int64_t ms = whole * 1000;
    if (i < n - 1) {
        if (s[i] != '.' || i + 1 == n - 1 || n - 1 - (i + 1) > 9)
            return -1;
        int scale = 100;
        for (Py_ssize_t j = i + 1; j < n - 1; j++) {
            if (s[j] < '0' || s[j] > '9')
                return -1;
            ms += (s[j] - '0') * scale;
            scale /= 10;
        }
    }
    return ms;
}

/* A str of ASCII bytes (a new reference): *last when it holds the same text, else a new
 * str that *last then holds (*fresh set). A few distinct values repeated message after
 * message (tenants, probe locations) make one str each, not one per message. */
static PyObject *ascii_text(PyObject **last, const char *p, Py_ssize_t n, int *fresh)
{
    *fresh = 0;
    if (*last != NULL && PyUnicode_IS_COMPACT_ASCII(*last) && PyUnicode_GET_LENGTH(*last) == n
        && memcmp(PyUnicode_DATA(*last), p, (size_t)n) == 0)
        return Py_NewRef(*last);
    PyObject *text = PyUnicode_DecodeASCII(p, n, NULL);
    if (text == NULL)
        return NULL;
    Py_XSETREF(*last, Py_NewRef(text));
    *fresh = 1;
    return text;
}

#endif
