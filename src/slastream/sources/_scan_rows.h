/* Gateway uplinks and deliveries to column rows, from the typed read or from the line's
 * bytes (_scan_json.h).
 * Part of _scan.c's one translation unit: included there, after its globals. */
#ifndef SLASTREAM_SCAN_ROWS_H
#define SLASTREAM_SCAN_ROWS_H

/* A data uplink's header from its PHYPayload's base64 text (canonical base64 only):
 * 1 with DevAddr, FCnt, confirmed (0/1) and FPort (-1: none) in out[0..3], 0 anything
 * else (chirpstack_gateway.decode_up decides). */
static int uplink_header(const char *text, Py_ssize_t text_len, int64_t out[4])
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
    out[0] = (int64_t)phy[1] | (int64_t)phy[2] << 8 | (int64_t)phy[3] << 16
             | (int64_t)phy[4] << 24;
    out[1] = (int64_t)phy[6] | (int64_t)phy[7] << 8;
    out[2] = mhdr == CONFIRMED;
    out[3] = len > end ? phy[end - 4] : -1;
    return 1;
}

/* A gateway uplink's row from its PHYPayload's base64 text (the CRC checked by the
 * caller): 1 appended, 0 not this code's (Python decodes the line), -1 error. */
static int gateway_row(const char *text, Py_ssize_t text_len, int64_t ms, Slot *sl,
                       int64_t n, Batch *b)
{
    int64_t head[4];
    if (!uplink_header(text, text_len, head))
        return 0;
    int64_t row[8];
    row[0] = ms;
    row[1] = head[0];
    row[2] = head[1];
    /* the names in the order the Python loop interns them: gateway, region */
    if (slot_names(b, sl, &row[3], &row[4]) < 0)
        return -1;
    row[5] = head[2];
    row[6] = head[3];
    row[7] = n;
    if (PyByteArray_GET_SIZE(b->received) == 0 && PyList_Append(b->order, g_received) < 0)
        return -1;
    return append_row(b->received, row, 8) < 0 ? -1 : 1;
}

static int is_crc_ok(const char *s, Py_ssize_t n)
{
    return n == 6 && memcmp(s, "CRC_OK", 6) == 0;
}

/* chirpstack_gateway.decode_up's plain shape from the typed read. */
static int gateway_up(PyObject *payload, int64_t ms, Slot *sl, int64_t n, Batch *b)
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
                       sl, n, b);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A devAddr as chirpstack.decode_up reads it, 8 hex digits: 1 with its value, 0 else. */
static int devaddr_of(const char *addr, Py_ssize_t n, int64_t *out)
{
    if (n != 8)
        return 0;
    int64_t devaddr = 0;
    for (int i = 0; i < 8; i++) {
        int v = hexval((unsigned char)addr[i]);
        if (v < 0)
            return 0;
        devaddr = devaddr << 4 | v;
    }
    *out = devaddr;
    return 1;
}

/* A delivery's row from its devAddr text, fCnt and tenant (NULL: ""): 1 appended, 0 not
 * this code's, -1 error. */
static int device_row(const char *addr, Py_ssize_t addr_len, int64_t count, PyObject *tenant,
                      int64_t ms, Slot *sl, int64_t n, Batch *b)
{
    /* chirpstack.decode_up: devAddr 8 hex digits, fCnt a uint32 */
    int64_t devaddr;
    if (count < 0 || count > 0xFFFFFFFFLL || !devaddr_of(addr, addr_len, &devaddr))
        return 0;
    int64_t row[7];
    row[0] = ms;
    row[1] = devaddr;
    row[2] = count;
    /* the names in the order the Python loop interns them: application, device, tenant */
    if (slot_names(b, sl, &row[3], &row[4]) < 0
        || (row[5] = tenant_index(b, tenant != NULL ? tenant : s_empty)) < 0)
        return -1;
    row[6] = n;
    if (PyByteArray_GET_SIZE(b->delivered) == 0 && PyList_Append(b->order, g_delivered) < 0)
        return -1;
    return append_row(b->delivered, row, 7) < 0 ? -1 : 1;
}

/* chirpstack.decode_up's plain shape from the typed read. */
static int device_up(PyObject *payload, int64_t ms, Slot *sl, int64_t n, Batch *b)
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
                      tenant, ms, sl, n, b);
}

/* A tenant id read from the bytes of a line, as a str (borrowed): the last tenant named
 * (Topics.tenant) when it is the same, so that a capture's few tenants make a str each,
 * not one per line, and tenant_index finds its index without a lookup. */
static PyObject *tenant_of(Topics *t, const Raw *raw)
{
    int fresh;
    PyObject *text = ascii_text(&t->tenant, raw->p, raw->n, &fresh); /* ASCII: the line is */
    if (text == NULL)
        return NULL;
    if (fresh)
        t->tenant_gen = 0; /* no index yet */
    Py_DECREF(text); /* t->tenant holds it */
    return text;
}

/* Where the bridge's line form ({"received_at":"<24 characters>","topic":"...) puts the
 * topic. */
#define TOPIC_AT 51

/* A line read from its bytes (_scan_json.h): 1 decoded into a row, 0 not this code's (the
 * typed read takes it), -1 error. */
static int from_bytes(const char *s, Py_ssize_t len, Batch *b, int64_t n, int64_t *ms_out)
{
    Topics *t = (Topics *)b->topics;
    /* the topic where the bridge's form has it: its slot is fetched while the line is
     * read (a guess: the line's own reading below decides) */
    const char *peek = NULL;
    Py_ssize_t peek_n = -1;
    uint64_t h = 0;
    if (len > TOPIC_AT && memcmp(s, "{\"received_at\":\"", 16) == 0
        && memcmp(s + TOPIC_AT - 11, "\",\"topic\":\"", 11) == 0) {
        const char *q = memchr(s + TOPIC_AT, '"', (size_t)(len - TOPIC_AT));
        if (q != NULL) {
            peek = s + TOPIC_AT;
            peek_n = q - peek;
            h = topic_hash(peek, peek_n);
            topic_prefetch(t, h);
        }
    }
    Fields f;
    if (!scan_line(s, len, &f))
        return 0;
    int64_t ms = stamp_text(f.received_at.p, f.received_at.n);
    if (ms < 0 || f.topic.n == 0)
        return 0;
    /* the topic by its bytes: ASCII without escapes, its UTF-8 as it stands */
    if (f.topic.p != peek || f.topic.n != peek_n)
        h = topic_hash(f.topic.p, f.topic.n);
    Slot *sl = topic_slot(t, b->classify, f.topic.p, f.topic.n, h, NULL);
    if (sl == NULL)
        return -1;
    long kind = sl->kind;
    int done = 0;
    if (kind == KIND_GATEWAY_UP) {
        if (f.rx == 1 && f.phy.n >= 0 && (f.crc.n < 0 || is_crc_ok(f.crc.p, f.crc.n)))
            done = gateway_row(f.phy.p, f.phy.n, ms, sl, n, b);
    } else if (kind == KIND_DEVICE_UP && f.devaddr.n >= 0 && f.fcnt >= 0) {
        PyObject *tenant = NULL;
        if (f.devinfo == 1 && f.tenant.n >= 0 && (tenant = tenant_of(t, &f.tenant)) == NULL)
            done = -1;
        else
            done = device_row(f.devaddr.p, f.devaddr.n, f.fcnt, tenant, ms, sl, n, b);
    }
    return finish(b, kind, done, ms, ms_out);
}

#endif
