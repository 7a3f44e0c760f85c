/* The replay's hot loop in C (sources/fastpath.py: column_batches).
 *
 * ``skip`` takes capture lines from an iterator and decodes, one after the other, every
 * line of the shapes that make up almost all of a LoRaWAN capture: ChirpStack gateway
 * uplinks and integration deliveries (rows appended to the batch's buffers, as the Python
 * loop's own branches append them), gateway downlinks, their acknowledgements, integration
 * txacks and arrays of request records (events appended, as the router's decoders make
 * them). It returns the first line it does not finish (any other topic or shape, a
 * timestamp in another form, a line the typed read refuses, ...), which the Python loop
 * then decodes itself. So this code only ever decides "the same rows or events as the
 * Python loop" or "not mine": every check is the Python branch's or the decoder's,
 * narrowed where that is simpler (a timestamp only in the bridge's own form, base64 only
 * in its canonical form), never widened. tests/sources/test_scan.py holds the two to that.
 *
 * A line is read from its bytes when _scan_json.h is sure of it (gateway uplinks and
 * deliveries in the bridge's form), else by the msgspec decoder of shapes.Line, whose
 * fields are Struct slots read here at their offsets (the member descriptors say where).
 * The parts: _scan_fields.h (timestamps, base64, uint32, Duration), _scan_rows.h (the two
 * row types), _scan_events.h (the other events), _scan_json.h (the byte reader); one
 * translation unit. The bridge's reader of probe results and ChirpStack uplinks
 * (``messages``, _scan_bridge.h) shares the byte reader, the timestamps, the frame header
 * and the DevAddr.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#include "_scan_json.h"

/* What fastpath.setup_native hands over once. */
static PyObject *g_read;                       /* msgspec decoder of shapes.Line */
static PyTypeObject *g_line, *g_payload, *g_rxinfo, *g_devinfo;
static PyTypeObject *g_item, *g_txinfo, *g_timing, *g_delay;
static PyObject *g_received, *g_delivered;     /* the event types, for the batch's order */
static PyTypeObject *g_command, *g_ack, *g_outcome; /* DownlinkCommand, -Ack, -Outcome */
static PyTypeObject *g_request;                /* RequestLog */
static PyObject *g_unset;                      /* msgspec.UNSET: a key that is absent */
static PyObject *g_log_key;                    /* (source, reason class) of an ignored log */
static PyObject *s_ignored, *s_ok, *s_empty, *s_class_b, *s_class_c;
static PyObject *s_time, *s_duration, *s_status, *s_client, *s_bytes, *s_downlink_gateway;
static Py_ssize_t off_received_at, off_topic, off_payload;
static Py_ssize_t off_rxinfo, off_phy, off_devaddr, off_fcnt, off_deviceinfo;
static Py_ssize_t off_items, off_downlink_id, off_txinfo, off_code;
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
#define KIND_DEVICE_LOG 7
#define KINDS 8

#include "_scan_topics.h"

/* What skip() appends to: the batch being decoded, as the Python loop holds it. */
typedef struct {
    PyObject *topics, *classify, *names, *index, *received, *delivered, *others, *others_at,
        *order, *ignored;
    long long counts[KINDS]; /* messages decoded here, by kind */
} Batch;

/* The end of a line's decoding: a decoded line counted by kind. */
static int finish(Batch *b, long kind, int done, int64_t ms, int64_t *ms_out)
{
    if (done > 0)
        b->counts[kind]++;
    *ms_out = ms;
    return done;
}

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
    PyObject *read, *types, *unset, *log_key;
    if (!PyArg_ParseTuple(args, "OO!OO!", &read, &PyDict_Type, &types, &unset, &PyTuple_Type,
                          &log_key))
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
        || member_offset(g_payload, "code", &off_code) < 0
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
    if (s_ignored == NULL /* once: a test hands over another read */
        && (!(s_ignored = PyUnicode_InternFromString("IGNORED"))
        || !(s_ok = PyUnicode_InternFromString("OK"))
        || !(s_empty = PyUnicode_InternFromString(""))
        || !(s_class_b = PyUnicode_InternFromString("CLASS_B"))
        || !(s_class_c = PyUnicode_InternFromString("CLASS_C"))
        || !(s_time = PyUnicode_InternFromString("time"))
        || !(s_duration = PyUnicode_InternFromString("duration_ms"))
        || !(s_status = PyUnicode_InternFromString("status"))
        || !(s_client = PyUnicode_InternFromString("client"))
        || !(s_bytes = PyUnicode_InternFromString("bytes"))
        || !(s_downlink_gateway = PyUnicode_InternFromString("DOWNLINK_GATEWAY"))))
        return NULL;
    Py_XSETREF(g_read, Py_NewRef(read));
    Py_XSETREF(g_unset, Py_NewRef(unset));
    Py_XSETREF(g_log_key, Py_NewRef(log_key));
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

/* The name indexes of a topic's two levels (an uplink's gateway and region, a delivery's
 * application and device) in the batch's table of names, interned in that order when the
 * slot has none for this table yet: names are only ever added to a table, so they stay
 * valid. -1 on error. */
static int slot_names(Batch *b, Slot *sl, int64_t *first, int64_t *second)
{
    Topics *t = (Topics *)b->topics;
    if (sl->gen != t->gen) {
        if ((sl->idx[0] = name_of(b->names, b->index, PyTuple_GET_ITEM(sl->info, 1))) < 0
            || (sl->idx[1] = name_of(b->names, b->index, PyTuple_GET_ITEM(sl->info, 2))) < 0)
            return -1;
        sl->gen = t->gen;
    }
    *first = sl->idx[0];
    *second = sl->idx[1];
    return 0;
}

/* name_of of a delivery's tenant, the last one's index kept (a capture has a few). */
static int64_t tenant_index(Batch *b, PyObject *tenant)
{
    Topics *t = (Topics *)b->topics;
    if (t->tenant == tenant && t->tenant_gen == t->gen)
        return t->tenant_idx;
    int64_t idx = name_of(b->names, b->index, tenant);
    if (idx < 0)
        return -1;
    Py_INCREF(tenant);
    Py_XSETREF(t->tenant, tenant); /* held: no later str can have its address */
    t->tenant_gen = t->gen;
    t->tenant_idx = idx;
    return idx;
}

#include "_scan_fields.h"
#include "_scan_rows.h"
#include "_scan_events.h"
#include "_scan_bridge.h"

/* A line from its typed read ``rec``: 1 decoded, 0 not this code's, -1 error. */
static int from_typed_read(PyObject *rec, Batch *b, int64_t n, int64_t *ms_out)
{
    PyObject *payload = slot(rec, off_payload), *topic = slot(rec, off_topic);
    if (!Py_IS_TYPE(rec, g_line) || payload == NULL || topic == NULL
        || !PyUnicode_CheckExact(topic) || PyUnicode_GET_LENGTH(topic) == 0)
        return 0;
    int64_t ms = stamp_ms(slot(rec, off_received_at));
    if (ms < 0)
        return 0;
    /* the topic by its UTF-8 bytes, as the byte reader looks it up */
    const char *key;
    Py_ssize_t key_len;
    if (PyUnicode_IS_COMPACT_ASCII(topic)) {
        key = (const char *)PyUnicode_DATA(topic);
        key_len = PyUnicode_GET_LENGTH(topic);
    } else if ((key = PyUnicode_AsUTF8AndSize(topic, &key_len)) == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return -1;
        PyErr_Clear(); /* a lone surrogate: Python decodes the line */
        return 0;
    }
    Slot *sl = topic_slot((Topics *)b->topics, b->classify, key, key_len,
                          topic_hash(key, key_len), topic);
    if (sl == NULL)
        return -1;
    long kind = sl->kind;
    PyObject *info = sl->info;
    int done = 0;
    if (kind == KIND_REQUESTS) {
        if (PyList_CheckExact(payload))
            done = requests(payload, ms, info, n, b->others, b->others_at, b->order);
    } else if (!Py_IS_TYPE(payload, g_payload)) {
        done = 0;
    } else if (kind == KIND_GATEWAY_UP) {
        done = gateway_up(payload, ms, sl, n, b);
    } else if (kind == KIND_DEVICE_UP) {
        done = device_up(payload, ms, sl, n, b);
    } else if (kind == KIND_GATEWAY_DOWN) {
        done = gateway_down(payload, ms, info, n, b->others, b->others_at, b->order);
    } else if (kind == KIND_GATEWAY_ACK) {
        done = gateway_ack(payload, ms, info, n, b->others, b->others_at, b->order);
    } else if (kind == KIND_DEVICE_TXACK) {
        done = device_txack(payload, ms, info, n, b->others, b->others_at, b->order);
    } else if (kind == KIND_DEVICE_LOG) {
        /* the batch's first ignored log goes through Python: its reason class takes its
         * place among the batch's ignored counters, in the order the plain path gives */
        int seen = PyDict_Contains(b->ignored, g_log_key);
        done = seen < 0 ? -1 : seen ? device_log(payload) : 0;
    }
    return finish(b, kind, done, ms, ms_out);
}

PyDoc_STRVAR(skip_doc,
"skip(lines, topics, classify, names, index, received, delivered, others, others_at,\n"
"     order, ok, n, chunk, first, max_line, pos, ignored)\n"
"-> (line, rec, n, first, pos)\n\n"
"Decode lines from ``lines`` (an iterator, or a bytes buffer of lines read from ``pos``\n"
"on) while they are plain gateway uplinks or\n"
"deliveries (their rows appended), gateway downlinks, acknowledgements, txacks or arrays\n"
"of request records (their events appended), or log events that are ignored, counting\n"
"them in ``ok[kind]``; a topic new\n"
"to ``topics`` (a Topics, and its kinds dict) is entered by ``classify(topic)``, which\n"
"returns its entry; new names are added to ``names`` and ``index``); stop at the first other\n"
"line (returned with its typed read ``rec``, or None when that read failed or was not\n"
"made), at the end of the input or when ``n`` reaches ``chunk`` (line None).");

static PyObject *skip(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 17) {
        PyErr_SetString(PyExc_TypeError, "skip() takes 17 arguments");
        return NULL;
    }
    if (!g_ready) {
        PyErr_SetString(PyExc_RuntimeError, "skip() before setup()");
        return NULL;
    }
    Batch b = {args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8],
               args[9], args[16], {0}};
    PyObject *it = args[0], *ok = args[10], *first = args[13];
    if (!Py_IS_TYPE(b.topics, &TopicsType) || !PyList_CheckExact(b.names)
        || !PyDict_CheckExact(b.index) || !PyByteArray_CheckExact(b.received)
        || !PyByteArray_CheckExact(b.delivered) || !PyDict_CheckExact(b.others)
        || !PyDict_CheckExact(b.others_at) || !PyList_CheckExact(b.order)
        || !PyDict_Check(b.ignored)
        || !PyList_CheckExact(ok) || PyList_GET_SIZE(ok) != KINDS) {
        PyErr_SetString(PyExc_TypeError, "skip(): Topics, list, dict, bytearray, bytearray, "
                                         "dict, dict, list, list of a count per kind");
        return NULL;
    }
    int64_t n = PyLong_AsLongLong(args[11]);
    int64_t chunk = PyLong_AsLongLong(args[12]);
    Py_ssize_t max_line = PyLong_AsSsize_t(args[14]);
    Py_ssize_t pos = PyLong_AsSsize_t(args[15]);
    if (PyErr_Occurred())
        return NULL;
    topics_use((Topics *)b.topics, b.index);
    /* lines from an iterator, or from a buffer of whole lines split here at each b"\n"
     * (kept, as a file's lines keep it), from pos on */
    const char *buf = NULL;
    Py_ssize_t size = 0;
    iternextfunc next = NULL;
    if (PyBytes_CheckExact(it)) {
        buf = PyBytes_AS_STRING(it);
        size = PyBytes_GET_SIZE(it);
        if (pos < 0 || pos > size) {
            PyErr_SetString(PyExc_ValueError, "skip(): pos outside the buffer");
            return NULL;
        }
    } else if ((next = Py_TYPE(it)->tp_iternext) == NULL) {
        PyErr_SetString(PyExc_TypeError, "skip(): lines is neither bytes nor an iterator");
        return NULL;
    }
    int64_t first_ms = 0;
    int have_first = first != Py_None;
    PyObject *line = NULL, *rec = NULL;
    while (n < chunk) {
        const char *s;
        Py_ssize_t len;
        if (buf != NULL) {
            if (pos >= size)
                break;
            const char *nl = memchr(buf + pos, '\n', (size_t)(size - pos));
            s = buf + pos;
            len = (nl != NULL ? nl + 1 - buf : size) - pos;
            pos += len;
        } else {
            line = next(it);
            if (line == NULL) {
                if (PyErr_Occurred()) {
                    if (!PyErr_ExceptionMatches(PyExc_StopIteration))
                        return NULL;
                    PyErr_Clear();
                }
                break;
            }
            if (!PyBytes_CheckExact(line))
                break; /* rec None: Python reads it */
            s = PyBytes_AS_STRING(line);
            len = PyBytes_GET_SIZE(line);
        }
        int64_t ms;
        int done = len > max_line ? 0 : from_bytes(s, len, &b, n, &ms);
        if (done == 0 && line == NULL && (line = PyBytes_FromStringAndSize(s, len)) == NULL)
            goto error;
        if (len > max_line)
            break; /* rec None: Python rejects it */
        if (done == 0) {
            if (!is_ascii(s, len))
                break; /* rec None: Python reads it (and checks its UTF-8) */
            rec = PyObject_CallOneArg(g_read, line);
            if (rec == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_Exception))
                    goto error;
                PyErr_Clear();
                break; /* rec None: Python reads it again, and names what is wrong */
            }
            done = from_typed_read(rec, &b, n, &ms);
        }
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
        if (b.counts[k] == 0)
            continue;
        long long was = PyLong_AsLongLong(PyList_GET_ITEM(ok, k));
        PyObject *now = was == -1 && PyErr_Occurred() ? NULL
                                                      : PyLong_FromLongLong(was + b.counts[k]);
        if (now == NULL || PyList_SetItem(ok, k, now) < 0)
            goto error;
    }
    PyObject *first_out;
    if (first != Py_None || !have_first) {
        first_out = Py_NewRef(first);
    } else {
        first_out = PyLong_FromLongLong(first_ms);
        if (first_out == NULL)
            goto error;
    }
    return Py_BuildValue("(NNLNn)", line ? line : Py_NewRef(Py_None),
                         rec ? rec : Py_NewRef(Py_None), (long long)n, first_out, pos);
error:
    Py_XDECREF(line);
    Py_XDECREF(rec);
    return NULL;
}

PyDoc_STRVAR(scan_doc,
"scan(lines) -> int\n\n"
"How many of the lines the byte reader (_scan_json.h) takes: the parse stage alone, for\n"
"benchmarks/replay_stages.py.");

static PyObject *scan(PyObject *self, PyObject *lines)
{
    PyObject *it = PyObject_GetIter(lines), *line;
    if (it == NULL)
        return NULL;
    long long taken = 0;
    Fields f;
    while ((line = PyIter_Next(it)) != NULL) {
        if (PyBytes_Check(line))
            taken += scan_line(PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line), &f);
        Py_DECREF(line);
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? NULL : PyLong_FromLongLong(taken);
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_O, scan_doc},
    {"setup", setup, METH_VARARGS,
     "setup(read, types, unset, log_key): the typed read, the structs and event types by "
     "name, msgspec.UNSET, the ignored counter's key of a log event"},
    {"skip", (PyCFunction)(void (*)(void))skip, METH_FASTCALL, skip_doc},
    {"messages", (PyCFunction)(void (*)(void))messages, METH_FASTCALL, messages_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan",
    "The replay's hot loop for plain gateway uplinks and deliveries (fastpath.py), and the "
    "bridge's for plain probe results and ChirpStack uplinks (ingest/fastdecode.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__scan(void)
{
    b64_init();
    if ((g_blank = PyUnicode_New(0, 0)) == NULL || PyType_Ready(&TopicsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Topics", (PyObject *)&TopicsType) < 0
        || PyModule_AddIntConstant(m, "TOPICS_MAX", TOPICS_MAX) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
