/* The bridge's commonest payloads read straight from their bytes (ingest/fastdecode.py):
 * probe results and ChirpStack gateway and integration uplinks.
 *
 * A probe is published as {"time", "ok", "status", "latency_ms", "location"}
 * (docs/interfaces.md#mqtt-topics); a gateway's uplink as ChirpStack's UplinkFrame, of
 * which chirpstack_gateway.decode_up reads rxInfo.crcStatus and phyPayload; an
 * integration's uplink as its UplinkEvent, of which chirpstack.decode_up reads devAddr,
 * fCnt and deviceInfo.tenantId. messages() makes the event that router.decode would make
 * of each payload, or declines it (None):
 * the payload is checked as JSON (RFC 8259) the way orjson, the router's parser, checks
 * it, and the fields with the decoder's checks. It answers only when sure: an escape in a
 * string, a byte that is not ASCII, a number with an exponent or longer than 32
 * characters (the ones that can overflow a double), a repeated field that is read, a
 * field of another type or out of range, a timestamp not in the bridge's own form, an
 * array of probes, base64 not in its canonical form, a frame that is not a LoRaWAN 1.0
 * data uplink, and it declines; it never rejects a message. A declined message goes
 * through fastdecode's other tiers and the router as before, so outcomes and events are
 * the same message by message (tests/ingest/test_fastdecode.py, tests/fuzz).
 *
 * Part of _scan.c's one translation unit: included there, after _scan_json.h,
 * _scan_fields.h and _scan_rows.h. */
#ifndef SLASTREAM_SCAN_BRIDGE_H
#define SLASTREAM_SCAN_BRIDGE_H

#define STATUS_MAX 999

typedef struct {
    Raw time, location; /* location.n: -1 absent, -2 null */
    int ok;             /* -1 absent */
    int64_t status;     /* -1 absent or null */
    double latency;     /* NaN absent or null */
} Probe;

/* status: null, or a plain integer 0-999 (a bool, a float or a sign is the router's). */
static int probe_status(Cursor *c, int64_t *status)
{
    if (lit(c, "null", 4)) {
        *status = -1;
        return 1;
    }
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return 0;
    return number(c, status) && *status >= 0 && *status <= STATUS_MAX;
}

/* latency_ms: null, a plain integer of at most 18 digits (float() of it, exact below
 * 2**53 and rounded to nearest as Python rounds above), or a plain decimal without a sign
 * or exponent (read by PyOS_string_to_double, correctly rounded, as orjson reads it). */
static int probe_latency(Cursor *c, double *latency)
{
    if (lit(c, "null", 4)) {
        *latency = Py_NAN;
        return 1;
    }
    const char *s = c->p;
    int64_t whole;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9' || !number(c, &whole))
        return 0;
    if (whole >= 0) {
        *latency = (double)whole;
        return 1;
    }
    char text[40]; /* number() with c->finite: at most 32 characters */
    Py_ssize_t n = c->p - s;
    if (memchr(s, '.', (size_t)n) == NULL)
        return 0; /* an integer of 19 digits or more: orjson's int or float, not read here */
    memcpy(text, s, (size_t)n);
    text[n] = '\0';
    char *end;
    double v = PyOS_string_to_double(text, &end, NULL);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (end != text + n || !(v >= 0.0 && v < Py_HUGE_VAL))
        return 0;
    *latency = v;
    return 1;
}

#define PROBE_KEY(name) (key.n == (Py_ssize_t)sizeof(name) - 1 \
                         && memcmp(key.p, name, sizeof(name) - 1) == 0)

/* 1: the payload is one object in the plain shape, valid, its fields in pr; 0: anything
 * else (declined). Other members are checked as JSON and skipped, as the decoder
 * ignores them. */
static int probe_payload(const char *s, Py_ssize_t n, Probe *pr)
{
    Cursor c = {s, s + n, 1};
    unsigned seen = 0;
    pr->time.n = pr->location.n = -1;
    pr->ok = -1;
    pr->status = -1;
    pr->latency = Py_NAN;
    ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return 0;
    if (!opened_empty(&c, '}')) {
        for (;;) {
            Raw key;
            int ok;
            unsigned bit = 0;
            if (!key_colon(&c, &key))
                return 0;
            if (PROBE_KEY("time")) {
                bit = 1;
                ok = str(&c, &pr->time);
            } else if (PROBE_KEY("ok")) {
                bit = 2;
                pr->ok = c.p < c.end && *c.p == 't';
                ok = pr->ok ? lit(&c, "true", 4) : lit(&c, "false", 5);
            } else if (PROBE_KEY("status")) {
                bit = 4;
                ok = probe_status(&c, &pr->status);
            } else if (PROBE_KEY("latency_ms")) {
                bit = 8;
                ok = probe_latency(&c, &pr->latency);
            } else if (PROBE_KEY("location")) {
                bit = 16;
                ok = text_field(&c, &pr->location, 0, 1);
            } else {
                ok = value(&c, 1);
            }
            if (!ok || (seen & bit)) /* a repeated field: the last one counts, not read */
                return 0;
            seen |= bit;
            int next = after_item(&c, '}');
            if (next == 0)
                return 0;
            if (next == 2)
                break;
        }
    }
    ws(&c);
    return c.p == c.end && (seen & 3) == 3;
}

static PyObject *g_blank;              /* "" */
static PyObject *g_location, *g_tenant; /* the last location and tenant read */

/* A text field read by str() (ASCII), as a str; absent, null or empty: "". */
static PyObject *text_of(const Raw *r, PyObject **last)
{
    int fresh;
    return r->n <= 0 ? Py_NewRef(g_blank) : ascii_text(last, r->p, r->n, &fresh);
}

/* A new event of type cls (a NamedTuple: a tuple of its own type) holding fields[0..n),
 * whose references it takes; NULL, the fields released, when one of them is NULL (an
 * error). Its fields are ints, strs, bools and floats: no cycle can pass through it, so
 * the cyclic collector need not visit it (as it stops visiting a plain tuple of such
 * values); tracked, its passes over a socket read's events cost 0.1-0.2 µs a message. */
static PyObject *untracked_event(PyTypeObject *cls, PyObject **fields, int n)
{
    PyObject *ev = NULL;
    int complete = 1;
    for (int i = 0; i < n; i++)
        complete &= fields[i] != NULL;
    if (complete)
        ev = cls->tp_alloc(cls, n);
    for (int i = 0; i < n; i++) {
        if (ev != NULL)
            PyTuple_SET_ITEM(ev, i, fields[i]);
        else
            Py_XDECREF(fields[i]);
    }
    if (ev != NULL)
        PyObject_GC_UnTrack(ev);
    return ev;
}

/* The event of one payload: a new ProbeResult, Py_None (declined), or NULL (an error). */
static PyObject *probe_event(PyTypeObject *cls, PyObject *raw, PyObject *component)
{
    Probe pr;
    if (!probe_payload(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), &pr))
        return Py_NewRef(Py_None);
    int64_t time_ms = stamp_text(pr.time.p, pr.time.n);
    if (time_ms < 0)
        return Py_NewRef(Py_None); /* another form: parse_rfc3339_ms's */
    PyObject *fields[6] = {
        PyLong_FromLongLong(time_ms), Py_NewRef(component), PyBool_FromLong(pr.ok),
        PyLong_FromLongLong(pr.status), PyFloat_FromDouble(pr.latency),
        text_of(&pr.location, &g_location),
    };
    return untracked_event(cls, fields, 6);
}

/* A ChirpStack payload read into f (_scan_json.h's payload fields): 1 when it is one
 * object, valid, and nothing but whitespace follows; 0 else. */
static int chirpstack_fields(PyObject *raw, Fields *f)
{
    const char *s = PyBytes_AS_STRING(raw);
    Cursor c = {s, s + PyBytes_GET_SIZE(raw), 1};
    f->phy.n = f->crc.n = f->devaddr.n = f->tenant.n = -1;
    f->rx = f->devinfo = 0;
    f->fcnt = 0; /* absent: 0, as ChirpStack v4.0 omits zero values */
    ws(&c);
    if (!members(&c, f, payload_member, 1))
        return 0;
    ws(&c);
    return c.p == c.end;
}

/* A gateway uplink's event: a new UplinkReceived, Py_None (declined), or NULL. */
static PyObject *uplink_event(PyTypeObject *cls, PyObject *raw, PyObject *names,
                              PyObject *ms)
{
    Fields f;
    int64_t head[4];
    /* rxInfo one object, its crcStatus absent, null or CRC_OK (the decoder ignores the
     * rest); a list of them, the decoder's to read */
    if (!chirpstack_fields(raw, &f) || f.rx != 1 || f.phy.n < 0
        || (f.crc.n >= 0 && !is_crc_ok(f.crc.p, f.crc.n))
        || !uplink_header(f.phy.p, f.phy.n, head))
        return Py_NewRef(Py_None);
    PyObject *fields[7] = {
        Py_NewRef(ms), PyLong_FromLongLong(head[0]), PyLong_FromLongLong(head[1]),
        Py_NewRef(PyTuple_GET_ITEM(names, 1)), Py_NewRef(PyTuple_GET_ITEM(names, 2)),
        PyBool_FromLong((long)head[2]), PyLong_FromLongLong(head[3]),
    };
    return untracked_event(cls, fields, 7);
}

/* An integration uplink's event (chirpstack.decode_up's plain shape): a new
 * UplinkDelivered, Py_None (declined), or NULL. */
static PyObject *delivery_event(PyTypeObject *cls, PyObject *raw, PyObject *names,
                                PyObject *ms)
{
    Fields f;
    int64_t devaddr;
    /* devAddr 8 hex digits, fCnt a plain uint32 (devaddr_hex, uint32) */
    if (!chirpstack_fields(raw, &f) || f.fcnt < 0 || f.fcnt > 0xFFFFFFFFLL
        || f.devaddr.n < 0 || !devaddr_of(f.devaddr.p, f.devaddr.n, &devaddr))
        return Py_NewRef(Py_None);
    /* chirpstack._tenant: deviceInfo.tenantId when a string, else "" */
    PyObject *tenant = f.devinfo == 1 ? text_of(&f.tenant, &g_tenant) : Py_NewRef(g_blank);
    PyObject *fields[6] = {
        Py_NewRef(ms), PyLong_FromLongLong(devaddr), PyLong_FromLongLong(f.fcnt),
        Py_NewRef(PyTuple_GET_ITEM(names, 1)), Py_NewRef(PyTuple_GET_ITEM(names, 2)), tenant,
    };
    return untracked_event(cls, fields, 6);
}

PyDoc_STRVAR(messages_doc,
"messages(payloads, infos, limit, received_ms, classes) -> (events, probes, others)\n\n"
"The event of each payload of at most limit bytes whose info says what it is: a str, the\n"
"component of a probe; (1, gateway, region), a gateway's uplink; (2, application,\n"
"device), an integration's uplink (received at received_ms); else, or when declined,\n"
"None. classes: (ProbeResult, UplinkReceived, UplinkDelivered). probes, others: how many\n"
"of each were made.");

#define INFO_UPLINK 1
#define INFO_DELIVERY 2

static PyObject *messages(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1])
        || !PyLong_CheckExact(args[3]) || !PyTuple_CheckExact(args[4])
        || PyTuple_GET_SIZE(args[4]) != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "messages(payloads: list, infos: list, limit: int, received_ms: int, "
                        "classes: tuple of 3 types)");
        return NULL;
    }
    PyTypeObject *cls[3];
    for (int k = 0; k < 3; k++) {
        PyObject *c = PyTuple_GET_ITEM(args[4], k);
        if (!PyType_Check(c) || !PyType_IsSubtype((PyTypeObject *)c, &PyTuple_Type)) {
            PyErr_SetString(PyExc_TypeError, "classes: tuple types");
            return NULL;
        }
        cls[k] = (PyTypeObject *)c;
    }
    Py_ssize_t n = PyList_GET_SIZE(args[0]), limit = PyLong_AsSsize_t(args[2]);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    if (PyList_GET_SIZE(args[1]) != n) {
        PyErr_SetString(PyExc_ValueError, "payloads and infos differ in length");
        return NULL;
    }
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    Py_ssize_t probes = 0, others = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *raw = PyList_GET_ITEM(args[0], i), *info = PyList_GET_ITEM(args[1], i);
        PyObject *ev = NULL;
        long kind = 0;
        if (!PyBytes_CheckExact(raw) || PyBytes_GET_SIZE(raw) > limit) {
            ev = Py_NewRef(Py_None); /* over the limit: the router rejects it */
        } else if (PyUnicode_CheckExact(info)) {
            ev = probe_event(cls[0], raw, info);
            probes += ev != NULL && ev != Py_None;
        } else {
            if (PyTuple_CheckExact(info) && PyTuple_GET_SIZE(info) == 3
                && PyLong_CheckExact(PyTuple_GET_ITEM(info, 0))
                && PyUnicode_CheckExact(PyTuple_GET_ITEM(info, 1))
                && PyUnicode_CheckExact(PyTuple_GET_ITEM(info, 2)))
                kind = PyLong_AsLong(PyTuple_GET_ITEM(info, 0));
            if (kind == INFO_UPLINK)
                ev = uplink_event(cls[1], raw, info, args[3]);
            else if (kind == INFO_DELIVERY)
                ev = delivery_event(cls[2], raw, info, args[3]);
            else if (!PyErr_Occurred())
                ev = Py_NewRef(Py_None);
            others += ev != NULL && ev != Py_None;
        }
        if (ev == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, ev);
    }
    return Py_BuildValue("(Nnn)", out, probes, others);
}

#endif
