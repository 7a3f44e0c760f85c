/* The replay's hot loop for its two dominant line shapes, in C (sources/fastpath.py).
 *
 * ``skip`` takes capture lines from an iterator and decodes, one after the other, every
 * line that is a plain ChirpStack gateway uplink or integration ``event/up``: it appends
 * their rows to the batch's buffers exactly as fastpath.column_batches' Python branches do,
 * and returns the first line it does not finish (any other topic or shape, a topic or a
 * name not seen yet, a timestamp in another form, a line the typed read refuses, ...),
 * which the Python loop then decodes itself. So this code only ever decides "the same rows
 * as the Python branch" or "not mine": every check below is one of the Python branch's,
 * narrowed where that is simpler (a timestamp only in the bridge's own form, base64 only in
 * its canonical form), never widened. tests/sources/test_scan.py holds the two to that.
 *
 * Lines are read by the same msgspec decoder (fastpath.Line); its fields are msgspec
 * Struct slots, read here at their offsets (the member descriptors say where).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#include "_scan_json.h"

/* What fastpath.setup_native hands over once. */
static PyObject *g_read;                       /* msgspec decoder of fastpath.Line */
static PyTypeObject *g_line, *g_payload, *g_rxinfo, *g_devinfo;
static PyTypeObject *g_item, *g_txinfo, *g_timing, *g_delay;
static PyObject *g_received, *g_delivered;     /* the event types, for the batch's order */
static PyTypeObject *g_command, *g_ack, *g_outcome; /* DownlinkCommand, -Ack, -Outcome */
static PyTypeObject *g_request;                /* RequestLog */
static PyObject *g_unset;                      /* msgspec.UNSET: a key that is absent */
static PyObject *s_ignored, *s_ok, *s_empty, *s_class_b, *s_class_c;
static PyObject *s_time, *s_duration, *s_status, *s_client, *s_bytes;
static Py_ssize_t off_received_at, off_topic, off_payload;
static Py_ssize_t off_rxinfo, off_phy, off_devaddr, off_fcnt, off_deviceinfo;
static Py_ssize_t off_items, off_downlink_id, off_txinfo;
static Py_ssize_t off_crc, off_tenant, off_class;
static Py_ssize_t off_item_phy, off_item_txinfo, off_item_status;
static Py_ssize_t off_timing, off_delay, off_immediately, off_gps_epoch, off_delay_text;
static int g_ready;

/* Topic kinds (fastpath._GATEWAY_UP, ...): the kinds dict maps a topic to (kind, two topic
 * levels): the names of an uplink's or a delivery's row, or in the first the gateway id of
 * a downlink or ack, the devEui of a txack. */
#define KIND_GATEWAY_UP 1
#define KIND_DEVICE_UP 2
#define KIND_GATEWAY_DOWN 3
#define KIND_GATEWAY_ACK 4
#define KIND_DEVICE_TXACK 5
#define KIND_REQUESTS 6
#define KINDS 7

/* LoRaWAN 1.0.x §4.2: MHDR MType 010 / 100, Major 00; RFU bits not looked at. */
#define MHDR_MASK 0xE3
#define UNCONFIRMED (2 << 5)
#define CONFIRMED (4 << 5)
#define MIN_FRAME 12 /* MHDR + DevAddr + FCtrl + FCnt + MIC */
#define MAX_PHY 512  /* longer PHYPayloads (none in LoRaWAN) are left to Python */

static int member_offset(PyTypeObject *tp, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyDict_GetItemString(tp->tp_dict, name); /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", tp->tp_name, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX && m->type != T_OBJECT) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", tp->tp_name, name);
        return -1;
    }
    *out = m->offset;
    return 0;
}

static inline PyObject *slot(PyObject *obj, Py_ssize_t off)
{
    return *(PyObject **)((char *)obj + off);
}

static PyTypeObject *type_of(PyObject *types, const char *name)
{
    PyObject *t = PyDict_GetItemString(types, name); /* borrowed */
    if (t == NULL || !PyType_Check(t)) {
        PyErr_Format(PyExc_TypeError, "setup(): no type %s", name);
        return NULL;
    }
    Py_INCREF(t);
    return (PyTypeObject *)t;
}

static PyObject *setup(PyObject *self, PyObject *args)
{
    PyObject *read, *types, *unset;
    if (!PyArg_ParseTuple(args, "OO!O", &read, &PyDict_Type, &types, &unset))
        return NULL;
    if (!(g_line = type_of(types, "Line")) || !(g_payload = type_of(types, "Payload"))
        || !(g_rxinfo = type_of(types, "RxInfo")) || !(g_devinfo = type_of(types, "DeviceInfo"))
        || !(g_item = type_of(types, "Item")) || !(g_txinfo = type_of(types, "TxInfo"))
        || !(g_timing = type_of(types, "Timing")) || !(g_delay = type_of(types, "Delay"))
        || !(g_received = (PyObject *)type_of(types, "UplinkReceived"))
        || !(g_delivered = (PyObject *)type_of(types, "UplinkDelivered"))
        || !(g_command = type_of(types, "DownlinkCommand"))
        || !(g_ack = type_of(types, "DownlinkAck"))
        || !(g_outcome = type_of(types, "DownlinkOutcome"))
        || !(g_request = type_of(types, "RequestLog")))
        return NULL;
    if (member_offset(g_line, "received_at", &off_received_at) < 0
        || member_offset(g_line, "topic", &off_topic) < 0
        || member_offset(g_line, "payload", &off_payload) < 0
        || member_offset(g_payload, "rxInfo", &off_rxinfo) < 0
        || member_offset(g_payload, "phyPayload", &off_phy) < 0
        || member_offset(g_payload, "devAddr", &off_devaddr) < 0
        || member_offset(g_payload, "fCnt", &off_fcnt) < 0
        || member_offset(g_payload, "deviceInfo", &off_deviceinfo) < 0
        || member_offset(g_payload, "items", &off_items) < 0
        || member_offset(g_payload, "downlinkId", &off_downlink_id) < 0
        || member_offset(g_payload, "txInfo", &off_txinfo) < 0
        || member_offset(g_rxinfo, "crcStatus", &off_crc) < 0
        || member_offset(g_devinfo, "tenantId", &off_tenant) < 0
        || member_offset(g_devinfo, "deviceClassEnabled", &off_class) < 0
        || member_offset(g_item, "phyPayload", &off_item_phy) < 0
        || member_offset(g_item, "txInfo", &off_item_txinfo) < 0
        || member_offset(g_item, "status", &off_item_status) < 0
        || member_offset(g_txinfo, "timing", &off_timing) < 0
        || member_offset(g_timing, "delay", &off_delay) < 0
        || member_offset(g_timing, "immediately", &off_immediately) < 0
        || member_offset(g_timing, "gpsEpoch", &off_gps_epoch) < 0
        || member_offset(g_delay, "delay", &off_delay_text) < 0)
        return NULL;
    if (!(s_ignored = PyUnicode_InternFromString("IGNORED"))
        || !(s_ok = PyUnicode_InternFromString("OK"))
        || !(s_empty = PyUnicode_InternFromString(""))
        || !(s_class_b = PyUnicode_InternFromString("CLASS_B"))
        || !(s_class_c = PyUnicode_InternFromString("CLASS_C"))
        || !(s_time = PyUnicode_InternFromString("time"))
        || !(s_duration = PyUnicode_InternFromString("duration_ms"))
        || !(s_status = PyUnicode_InternFromString("status"))
        || !(s_client = PyUnicode_InternFromString("client"))
        || !(s_bytes = PyUnicode_InternFromString("bytes")))
        return NULL;
    Py_INCREF(read);
    Py_INCREF(unset);
    g_read = read;
    g_unset = unset;
    g_ready = 1;
    Py_RETURN_NONE;
}

static int is_ascii(const char *s, Py_ssize_t n)
{
    uint64_t acc = 0, w;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

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

static int append_row(PyObject *buf, const int64_t *row, Py_ssize_t width)
{
    Py_ssize_t at = PyByteArray_GET_SIZE(buf), size = width * (Py_ssize_t)sizeof(int64_t);
    if (PyByteArray_Resize(buf, at + size) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(buf) + at, row, (size_t)size);
    return 0;
}

/* columns.Names.of: the index of name in the batch's table of names, added when new;
 * -1 on error. */
static int64_t name_of(PyObject *names, PyObject *index, PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(index, name); /* borrowed */
    if (v != NULL)
        return PyLong_AsLongLong(v);
    if (PyErr_Occurred())
        return -1;
    Py_ssize_t at = PyList_GET_SIZE(names);
    v = PyLong_FromSsize_t(at);
    if (v == NULL)
        return -1;
    int bad = PyDict_SetItem(index, name, v) < 0 || PyList_Append(names, name) < 0;
    Py_DECREF(v);
    return bad ? -1 : at;
}

/* A gateway uplink's row from its PHYPayload's base64 text (the CRC checked by the
 * caller): 1 appended, 0 not this code's (Python decodes the line), -1 error. */
static int gateway_row(const char *text, Py_ssize_t text_len, int64_t ms, PyObject *info,
                       int64_t n, PyObject *names, PyObject *index, PyObject *received,
                       PyObject *order)
{
    unsigned char phy[MAX_PHY];
    Py_ssize_t len = b64_decode((const unsigned char *)text, text_len, phy);
    if (len < 8)
        return 0;
    int mhdr = phy[0] & MHDR_MASK;
    if (mhdr != UNCONFIRMED && mhdr != CONFIRMED)
        return 0;
    int fctrl = phy[5];
    Py_ssize_t end = MIN_FRAME + (fctrl & 0x0F);
    if (len < end)
        return 0;
    int64_t row[8];
    row[0] = ms;
    row[1] = (int64_t)phy[1] | (int64_t)phy[2] << 8 | (int64_t)phy[3] << 16
             | (int64_t)phy[4] << 24;
    row[2] = (int64_t)phy[6] | (int64_t)phy[7] << 8;
    /* the names in the order the Python loop interns them: gateway, region */
    if ((row[3] = name_of(names, index, PyTuple_GET_ITEM(info, 1))) < 0
        || (row[4] = name_of(names, index, PyTuple_GET_ITEM(info, 2))) < 0)
        return -1;
    row[5] = mhdr == CONFIRMED;
    row[6] = len > end ? phy[end - 4] : -1;
    row[7] = n;
    if (PyByteArray_GET_SIZE(received) == 0 && PyList_Append(order, g_received) < 0)
        return -1;
    return append_row(received, row, 8) < 0 ? -1 : 1;
}

static int is_crc_ok(const char *s, Py_ssize_t n)
{
    return n == 6 && memcmp(s, "CRC_OK", 6) == 0;
}

/* chirpstack_gateway.decode_up's plain shape from the typed read. */
static int gateway_up(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                      PyObject *names, PyObject *index, PyObject *received, PyObject *order)
{
    PyObject *rx = slot(payload, off_rxinfo), *text = slot(payload, off_phy);
    if (rx == NULL || text == NULL || !Py_IS_TYPE(rx, g_rxinfo) || !PyUnicode_CheckExact(text)
        || !PyUnicode_IS_COMPACT_ASCII(text))
        return 0;
    PyObject *crc = slot(rx, off_crc);
    if (crc == NULL)
        return 0;
    if (crc != Py_None
        && (!PyUnicode_CheckExact(crc) || !PyUnicode_IS_COMPACT_ASCII(crc)
            || !is_crc_ok((const char *)PyUnicode_DATA(crc), PyUnicode_GET_LENGTH(crc))))
        return 0;
    return gateway_row((const char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), ms,
                       info, n, names, index, received, order);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A delivery's row from its devAddr text, fCnt and tenant (NULL: ""): 1 appended, 0 not
 * this code's, -1 error. */
static int device_row(const char *addr, Py_ssize_t addr_len, int64_t count, PyObject *tenant,
                      int64_t ms, PyObject *info, int64_t n, PyObject *names,
                      PyObject *index, PyObject *delivered, PyObject *order)
{
    /* chirpstack.decode_up: devAddr 8 hex digits, fCnt a uint32 */
    if (addr_len != 8 || count < 0 || count > 0xFFFFFFFFLL)
        return 0;
    int64_t devaddr = 0;
    for (int i = 0; i < 8; i++) {
        int v = hexval((unsigned char)addr[i]);
        if (v < 0)
            return 0;
        devaddr = devaddr << 4 | v;
    }
    int64_t row[7];
    row[0] = ms;
    row[1] = devaddr;
    row[2] = count;
    /* the names in the order the Python loop interns them: application, device, tenant */
    if ((row[3] = name_of(names, index, PyTuple_GET_ITEM(info, 1))) < 0
        || (row[4] = name_of(names, index, PyTuple_GET_ITEM(info, 2))) < 0
        || (row[5] = name_of(names, index, tenant != NULL ? tenant : s_empty)) < 0)
        return -1;
    row[6] = n;
    if (PyByteArray_GET_SIZE(delivered) == 0 && PyList_Append(order, g_delivered) < 0)
        return -1;
    return append_row(delivered, row, 7) < 0 ? -1 : 1;
}

/* chirpstack.decode_up's plain shape from the typed read. */
static int device_up(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                     PyObject *names, PyObject *index, PyObject *delivered, PyObject *order)
{
    PyObject *addr = slot(payload, off_devaddr), *fcnt = slot(payload, off_fcnt);
    PyObject *dinfo = slot(payload, off_deviceinfo);
    if (addr == NULL || fcnt == NULL || dinfo == NULL || !PyUnicode_CheckExact(addr)
        || !PyUnicode_IS_COMPACT_ASCII(addr) || !PyLong_CheckExact(fcnt))
        return 0;
    int overflow;
    long long count = PyLong_AsLongLongAndOverflow(fcnt, &overflow);
    if (overflow || (count == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    /* chirpstack._tenant: deviceInfo.tenantId when a string, else "" */
    PyObject *tenant = NULL;
    if (dinfo != Py_None) {
        if (!Py_IS_TYPE(dinfo, g_devinfo))
            return 0;
        tenant = slot(dinfo, off_tenant);
        if (tenant == NULL)
            return 0;
        if (!PyUnicode_CheckExact(tenant))
            tenant = NULL;
    }
    return device_row((const char *)PyUnicode_DATA(addr), PyUnicode_GET_LENGTH(addr), count,
                      tenant, ms, info, n, names, index, delivered, order);
}

/* The last tenant id read from the bytes of a line, as a str: a capture has a few tenants,
 * one str each instead of one per line. */
static PyObject *g_tenant;

static PyObject *tenant_of(const Raw *raw)
{
    if (g_tenant != NULL && PyUnicode_GET_LENGTH(g_tenant) == raw->n
        && memcmp(PyUnicode_DATA(g_tenant), raw->p, (size_t)raw->n) == 0)
        return g_tenant;
    PyObject *fresh = PyUnicode_FromStringAndSize(raw->p, raw->n); /* ASCII: the line is */
    if (fresh == NULL)
        return NULL;
    Py_XSETREF(g_tenant, fresh);
    return g_tenant;
}

/* A line read from its bytes (_scan_json.h): 1 decoded into a row, 0 not this code's (the
 * typed read takes it), -1 error. */
static int from_bytes(const char *s, Py_ssize_t len, PyObject *kinds, PyObject *classify,
                      int64_t n, PyObject *names, PyObject *index, PyObject *received,
                      PyObject *delivered, PyObject *order, long long *counts,
                      int64_t *ms_out)
{
    Fields f;
    if (!scan_line(s, len, &f))
        return 0;
    int64_t ms = stamp_text(f.received_at.p, f.received_at.n);
    if (ms < 0 || f.topic.n == 0)
        return 0;
    PyObject *topic = PyUnicode_FromStringAndSize(f.topic.p, f.topic.n);
    if (topic == NULL)
        return -1;
    PyObject *info = PyDict_GetItemWithError(kinds, topic);
    if (info != NULL) {
        Py_INCREF(info);
    } else if (!PyErr_Occurred()) {
        info = PyObject_CallOneArg(classify, topic); /* as the Python loop does */
    }
    Py_DECREF(topic);
    if (info == NULL)
        return -1;
    int done = 0;
    if (PyTuple_CheckExact(info) && PyTuple_GET_SIZE(info) == 3) {
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(info, 0));
        if (kind == KIND_GATEWAY_UP) {
            if (f.rx == 1 && f.phy.n >= 0 && (f.crc.n < 0 || is_crc_ok(f.crc.p, f.crc.n)))
                done = gateway_row(f.phy.p, f.phy.n, ms, info, n, names, index, received,
                                   order);
        } else if (kind == KIND_DEVICE_UP) {
            if (f.devaddr.n >= 0 && f.fcnt >= 0) {
                PyObject *tenant = NULL;
                if (f.devinfo == 1 && f.tenant.n >= 0 && (tenant = tenant_of(&f.tenant)) == NULL)
                    done = -1;
                else
                    done = device_row(f.devaddr.p, f.devaddr.n, f.fcnt, tenant, ms, info, n,
                                      names, index, delivered, order);
            }
        } else if (kind == -1 && PyErr_Occurred()) {
            done = -1;
        }
        if (done > 0)
            counts[kind]++;
    }
    Py_DECREF(info);
    *ms_out = ms;
    return done;
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

/* An event (a NamedTuple of the type cls) from a new tuple of its fields, which it takes. */
static PyObject *event(PyTypeObject *cls, PyObject *fields)
{
    if (fields == NULL)
        return NULL;
    PyObject *args = PyTuple_Pack(1, fields);
    Py_DECREF(fields);
    if (args == NULL)
        return NULL;
    PyObject *ev = PyTuple_Type.tp_new(cls, args, NULL);
    Py_DECREF(args);
    return ev;
}

/* ev (taken) onto the batch's list of its type, with its message ordinal, as the Python
 * loop does for the router's events. */
static int append_other(PyObject *others, PyObject *others_at, PyObject *order,
                        PyTypeObject *cls, PyObject *ev, int64_t n)
{
    if (ev == NULL)
        return -1;
    PyObject *key = (PyObject *)cls, *at;
    PyObject *same = PyDict_GetItemWithError(others, key); /* borrowed */
    int r = -1;
    if (same == NULL) {
        if (PyErr_Occurred())
            goto done;
        PyObject *a = PyList_New(0), *b = PyList_New(0);
        int bad = a == NULL || b == NULL || PyDict_SetItem(others, key, a) < 0
                  || PyDict_SetItem(others_at, key, b) < 0 || PyList_Append(order, key) < 0;
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (bad)
            goto done;
        same = a;
        at = b;
    } else {
        at = PyDict_GetItemWithError(others_at, key);
        if (at == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_KeyError, "others_at");
            goto done;
        }
    }
    PyObject *num = PyLong_FromLongLong(n);
    if (num == NULL)
        goto done;
    r = PyList_Append(same, ev) < 0 || PyList_Append(at, num) < 0 ? -1 : 1;
    Py_DECREF(num);
done:
    Py_DECREF(ev);
    return r;
}

/* chirpstack_gateway.decode_down, v4 shape: items, each with txInfo.timing.delay. */
static int gateway_down(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                        PyObject *others, PyObject *others_at, PyObject *order)
{
    PyObject *items = slot(payload, off_items), *id = slot(payload, off_downlink_id);
    if (items == NULL || id == NULL || !PyList_CheckExact(items)
        || PyList_GET_SIZE(items) == 0)
        return 0;
    int64_t downlink_id = uint32_of(id);
    PyObject *first = PyList_GET_ITEM(items, 0);
    if (downlink_id < 0 || !Py_IS_TYPE(first, g_item))
        return 0;
    PyObject *text = slot(first, off_item_phy);
    if (text == NULL || !PyUnicode_CheckExact(text) || !PyUnicode_IS_COMPACT_ASCII(text))
        return 0;
    unsigned char phy[MAX_PHY];
    Py_ssize_t len = b64_decode((const unsigned char *)PyUnicode_DATA(text),
                                PyUnicode_GET_LENGTH(text), phy);
    if (len < 1)
        return 0;
    int mtype = phy[0] >> 5, join = mtype == 1; /* JOIN_ACCEPT; data down: 3, 5 */
    if ((!join && mtype != 3 && mtype != 5) || (phy[0] & 0x03) != 0)
        return 0;
    int64_t devaddr = -1;
    if (join) {
        if (len < 17) /* MHDR + 12-byte join-accept + MIC */
            return 0;
    } else {
        if (len < MIN_FRAME || len < MIN_FRAME + (phy[5] & 0x0F))
            return 0;
        devaddr = (int64_t)phy[1] | (int64_t)phy[2] << 8 | (int64_t)phy[3] << 16
                  | (int64_t)phy[4] << 24;
    }
    Py_ssize_t count = PyList_GET_SIZE(items);
    int64_t delay[16];
    if (count > 16)
        return 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *tx, *timing, *d;
        if (!Py_IS_TYPE(item, g_item) || (tx = slot(item, off_item_txinfo)) == NULL
            || !Py_IS_TYPE(tx, g_txinfo) || (timing = slot(tx, off_timing)) == NULL
            || !Py_IS_TYPE(timing, g_timing) || (d = slot(timing, off_delay)) == NULL
            || !Py_IS_TYPE(d, g_delay) || slot(d, off_delay_text) == NULL
            || (delay[i] = duration_ms(slot(d, off_delay_text))) < 0)
            return 0;
    }
    PyObject *delays = PyTuple_New(count);
    if (delays == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *v = PyLong_FromLongLong(delay[i]);
        if (v == NULL) {
            Py_DECREF(delays);
            return -1;
        }
        PyTuple_SET_ITEM(delays, i, v);
    }
    PyObject *ev = event(g_command, Py_BuildValue("(LOLLNO)", (long long)ms,
                                                  PyTuple_GET_ITEM(info, 1),
                                                  (long long)downlink_id, (long long)devaddr,
                                                  delays, join ? Py_True : Py_False));
    return append_other(others, others_at, order, g_command, ev, n);
}

/* chirpstack_gateway.decode_ack, v4 shape: a status per item ({} is IGNORED). */
static int gateway_ack(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                       PyObject *others, PyObject *others_at, PyObject *order)
{
    PyObject *items = slot(payload, off_items), *id = slot(payload, off_downlink_id);
    if (items == NULL || id == NULL || !PyList_CheckExact(items)
        || PyList_GET_SIZE(items) == 0)
        return 0;
    int64_t downlink_id = uint32_of(id);
    if (downlink_id < 0)
        return 0;
    Py_ssize_t count = PyList_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *status;
        if (!Py_IS_TYPE(item, g_item) || (status = slot(item, off_item_status)) == NULL
            || (status != Py_None
                && (!PyUnicode_CheckExact(status) || PyUnicode_GET_LENGTH(status) == 0)))
            return 0;
    }
    PyObject *statuses = PyTuple_New(count);
    if (statuses == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *status = slot(PyList_GET_ITEM(items, i), off_item_status);
        status = status == Py_None ? s_ignored : status;
        Py_INCREF(status);
        PyTuple_SET_ITEM(statuses, i, status);
    }
    PyObject *ev = event(g_ack, Py_BuildValue("(LOLN)", (long long)ms, PyTuple_GET_ITEM(info, 1),
                                              (long long)downlink_id, statuses));
    return append_other(others, others_at, order, g_ack, ev, n);
}

/* chirpstack.decode_txack: a Class-A downlink the gateway accepted (an ok outcome). */
static int device_txack(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                        PyObject *others, PyObject *others_at, PyObject *order)
{
    PyObject *dinfo = slot(payload, off_deviceinfo), *tx = slot(payload, off_txinfo);
    if (dinfo == NULL || tx == NULL || !Py_IS_TYPE(tx, g_txinfo))
        return 0;
    if (dinfo != Py_None) {
        PyObject *cls = slot(dinfo, off_class);
        if (!Py_IS_TYPE(dinfo, g_devinfo) || cls == NULL)
            return 0;
        if (cls != Py_None
            && (!PyUnicode_CheckExact(cls) || PyUnicode_Compare(cls, s_class_b) == 0
                || PyUnicode_Compare(cls, s_class_c) == 0))
            return 0; /* Class B or C: not a receive-window attempt (the decoder says) */
    }
    PyObject *timing = slot(tx, off_timing);
    if (timing == NULL)
        return 0;
    if (timing != Py_None
        && (!Py_IS_TYPE(timing, g_timing) || slot(timing, off_immediately) != g_unset
            || slot(timing, off_gps_epoch) != g_unset))
        return 0;
    PyObject *ev = event(g_outcome, Py_BuildValue("(LOOOOi)", (long long)ms,
                                                  PyTuple_GET_ITEM(info, 1), Py_True, s_ok,
                                                  s_empty, -1));
    return append_other(others, others_at, order, g_outcome, ev, n);
}

/* canonical.decode_request: an array of request records (canonical._request each). */
static PyObject *request_item(PyObject *obj, PyObject *component)
{
    PyObject *t, *d, *st, *cl, *by;
    if (!PyDict_CheckExact(obj))
        return Py_NewRef(Py_None);
    /* borrowed; a lookup error is left to the Python loop, which meets it as well */
    if ((t = PyDict_GetItemWithError(obj, s_time)) == NULL
        || (d = PyDict_GetItemWithError(obj, s_duration)) == NULL
        || (st = PyDict_GetItemWithError(obj, s_status)) == NULL) {
        PyErr_Clear();
        return Py_NewRef(Py_None);
    }
    cl = PyDict_GetItemWithError(obj, s_client);
    by = cl == NULL && PyErr_Occurred() ? NULL : PyDict_GetItemWithError(obj, s_bytes);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return Py_NewRef(Py_None);
    }
    int64_t ms = stamp_ms(t);
    if (ms < 0)
        return Py_NewRef(Py_None);
    /* _fields.number: a finite float >= 0, or an int from 0 to 2**63 as a float */
    double duration;
    if (PyFloat_CheckExact(d)) {
        duration = PyFloat_AS_DOUBLE(d);
        if (!(duration >= 0.0 && duration < Py_HUGE_VAL))
            return Py_NewRef(Py_None);
    } else if (PyLong_CheckExact(d)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(d, &overflow);
        if (overflow || v < 0)
            return Py_NewRef(Py_None);
        duration = (double)v;
    } else {
        return Py_NewRef(Py_None);
    }
    /* _status_code, required: an int from 0 to 999 */
    int overflow;
    long long status = PyLong_CheckExact(st) ? PyLong_AsLongLongAndOverflow(st, &overflow) : -1;
    if (!PyLong_CheckExact(st) || overflow || status < 0 || status > 999)
        return Py_NewRef(Py_None);
    /* client: a string, or "" when absent or null */
    if (cl == NULL || cl == Py_None)
        cl = s_empty;
    else if (!PyUnicode_CheckExact(cl))
        return Py_NewRef(Py_None);
    /* _size: a whole number >= 0 below 2**53 (an int, or a float of that value), or -1 */
    long long size = -1;
    if (by != NULL && by != Py_None) {
        if (PyLong_CheckExact(by)) {
            size = PyLong_AsLongLongAndOverflow(by, &overflow);
            if (overflow || size < 0 || size >= (1LL << 53))
                return Py_NewRef(Py_None);
        } else if (PyFloat_CheckExact(by)) {
            double v = PyFloat_AS_DOUBLE(by);
            if (!(v >= 0.0 && v < 9007199254740992.0) || v != (double)(long long)v)
                return Py_NewRef(Py_None);
            size = (long long)v;
        } else {
            return Py_NewRef(Py_None);
        }
    }
    return event(g_request, Py_BuildValue("(LOdLOL)", (long long)ms, component, duration,
                                          status, cl, size));
}

static int requests(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                    PyObject *others, PyObject *others_at, PyObject *order)
{
    Py_ssize_t count = PyList_GET_SIZE(payload);
    if (count == 0) /* an empty batch: ignored, as the decoder says */
        return 0;
    PyObject *events = PyList_New(count);
    if (events == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *ev = request_item(PyList_GET_ITEM(payload, i), PyTuple_GET_ITEM(info, 1));
        if (ev == NULL || ev == Py_None) { /* all or nothing, as canonical._one_or_many */
            Py_XDECREF(ev);
            Py_DECREF(events);
            return ev == NULL ? -1 : 0;
        }
        PyList_SET_ITEM(events, i, ev);
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *ev = PyList_GET_ITEM(events, i);
        Py_INCREF(ev);
        if (append_other(others, others_at, order, g_request, ev, n) < 0) {
            Py_DECREF(events);
            return -1;
        }
    }
    Py_DECREF(events);
    return 1;
}

PyDoc_STRVAR(skip_doc,
"skip(lines, kinds, classify, names, index, received, delivered, others, others_at,\n"
"     order, ok, n, chunk, first, max_line)\n"
"-> (line, rec, n, first)\n\n"
"Decode lines from the iterator ``lines`` while they are plain gateway uplinks or\n"
"deliveries (their rows appended), gateway downlinks, acknowledgements, txacks or arrays\n"
"of request records (their events appended), counting them in ``ok[kind]``; a topic new\n"
"to ``kinds`` is entered by ``classify(topic)``, which\n"
"returns its entry; new names are added to ``names`` and ``index``); stop at the first other\n"
"line (returned with its typed read ``rec``, or None when that read failed or was not\n"
"made), at the end of the input or when ``n`` reaches ``chunk`` (line None).");

static PyObject *skip(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 15) {
        PyErr_SetString(PyExc_TypeError, "skip() takes 15 arguments");
        return NULL;
    }
    if (!g_ready) {
        PyErr_SetString(PyExc_RuntimeError, "skip() before setup()");
        return NULL;
    }
    PyObject *it = args[0], *kinds = args[1], *classify = args[2], *names = args[3];
    PyObject *index = args[4], *received = args[5], *delivered = args[6], *others = args[7];
    PyObject *others_at = args[8], *order = args[9], *ok = args[10], *first = args[13];
    if (!PyDict_CheckExact(kinds) || !PyList_CheckExact(names) || !PyDict_CheckExact(index)
        || !PyByteArray_CheckExact(received) || !PyByteArray_CheckExact(delivered)
        || !PyDict_CheckExact(others) || !PyDict_CheckExact(others_at)
        || !PyList_CheckExact(order) || !PyList_CheckExact(ok)
        || PyList_GET_SIZE(ok) != KINDS) {
        PyErr_SetString(PyExc_TypeError, "skip(): dict, list, dict, bytearray, bytearray, "
                                         "dict, dict, list, list of a count per kind");
        return NULL;
    }
    int64_t n = PyLong_AsLongLong(args[11]);
    int64_t chunk = PyLong_AsLongLong(args[12]);
    Py_ssize_t max_line = PyLong_AsSsize_t(args[14]);
    if (PyErr_Occurred())
        return NULL;
    int64_t first_ms = 0;
    int have_first = first != Py_None;
    long long counts[KINDS] = {0};
    PyObject *line = NULL, *rec = NULL;
    iternextfunc next = Py_TYPE(it)->tp_iternext;
    if (next == NULL) {
        PyErr_SetString(PyExc_TypeError, "skip(): lines is not an iterator");
        return NULL;
    }
    while (n < chunk) {
        line = next(it);
        if (line == NULL) {
            if (PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_StopIteration))
                    return NULL;
                PyErr_Clear();
            }
            break;
        }
        if (!PyBytes_CheckExact(line) || PyBytes_GET_SIZE(line) > max_line)
            break; /* rec None: Python reads it */
        int64_t ms;
        int fast = from_bytes(PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line), kinds,
                              classify, n, names, index, received, delivered, order, counts,
                              &ms);
        if (fast < 0)
            goto error;
        if (fast > 0) {
            if (!have_first) {
                have_first = 1;
                first_ms = ms;
            }
            Py_CLEAR(line);
            n++;
            continue;
        }
        if (!is_ascii(PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line)))
            break; /* rec None: Python reads it (and checks its UTF-8) */
        rec = PyObject_CallOneArg(g_read, line);
        if (rec == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                goto error;
            PyErr_Clear();
            break;
        }
        PyObject *payload = slot(rec, off_payload), *topic = slot(rec, off_topic);
        if (!Py_IS_TYPE(rec, g_line) || payload == NULL || topic == NULL
            || !PyUnicode_CheckExact(topic) || PyUnicode_GET_LENGTH(topic) == 0)
            break;
        ms = stamp_ms(slot(rec, off_received_at));
        if (ms < 0)
            break;
        PyObject *info = PyDict_GetItemWithError(kinds, topic);
        if (info != NULL) {
            Py_INCREF(info);
        } else {
            if (PyErr_Occurred())
                goto error;
            /* a topic not seen yet: classified (and entered) as the Python loop does */
            info = PyObject_CallOneArg(classify, topic);
            if (info == NULL)
                goto error;
        }
        if (!PyTuple_CheckExact(info) || PyTuple_GET_SIZE(info) != 3) {
            Py_DECREF(info);
            break;
        }
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(info, 0));
        int done = 0;
        if (kind == KIND_REQUESTS) {
            if (PyList_CheckExact(payload))
                done = requests(payload, ms, info, n, others, others_at, order);
        } else if (!Py_IS_TYPE(payload, g_payload)) {
            done = 0;
        } else if (kind == KIND_GATEWAY_UP) {
            done = gateway_up(payload, ms, info, n, names, index, received, order);
        } else if (kind == KIND_DEVICE_UP) {
            done = device_up(payload, ms, info, n, names, index, delivered, order);
        } else if (kind == KIND_GATEWAY_DOWN) {
            done = gateway_down(payload, ms, info, n, others, others_at, order);
        } else if (kind == KIND_GATEWAY_ACK) {
            done = gateway_ack(payload, ms, info, n, others, others_at, order);
        } else if (kind == KIND_DEVICE_TXACK) {
            done = device_txack(payload, ms, info, n, others, others_at, order);
        } else if (kind == -1 && PyErr_Occurred()) {
            done = -1;
        }
        if (done > 0)
            counts[kind]++;
        Py_DECREF(info);
        if (done < 0)
            goto error;
        if (done == 0)
            break;
        if (!have_first) {
            have_first = 1;
            first_ms = ms;
        }
        Py_CLEAR(rec);
        Py_CLEAR(line);
        n++;
    }
    for (int k = 0; k < KINDS; k++) {
        if (counts[k] == 0)
            continue;
        long long was = PyLong_AsLongLong(PyList_GET_ITEM(ok, k));
        PyObject *now = was == -1 && PyErr_Occurred() ? NULL : PyLong_FromLongLong(was + counts[k]);
        if (now == NULL || PyList_SetItem(ok, k, now) < 0)
            goto error;
    }
    PyObject *first_out;
    if (first != Py_None || !have_first) {
        first_out = first;
        Py_INCREF(first_out);
    } else {
        first_out = PyLong_FromLongLong(first_ms);
        if (first_out == NULL)
            goto error;
    }
    return Py_BuildValue("(NNLN)", line ? line : Py_NewRef(Py_None),
                         rec ? rec : Py_NewRef(Py_None), (long long)n, first_out);
error:
    Py_XDECREF(line);
    Py_XDECREF(rec);
    return NULL;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(read, types, unset): the typed read, the structs and event types by name, "
     "msgspec.UNSET"},
    {"skip", (PyCFunction)(void (*)(void))skip, METH_FASTCALL, skip_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan",
    "The replay's hot loop for plain gateway uplinks and deliveries (fastpath.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__scan(void)
{
    b64_init();
    return PyModule_Create(&module);
}
