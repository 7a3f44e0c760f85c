/* Gateway downlinks, their acknowledgements, integration txacks and request records to
 * events.
 * Part of _scan.c's one translation unit: included there, after its globals. */
#ifndef SLASTREAM_SCAN_EVENTS_H
#define SLASTREAM_SCAN_EVENTS_H

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

/* The v4 shape of a downlink and its acknowledgement: the downlink id, -1 unless it is a
 * uint32 and *items a non-empty list (the v3 shape, and any other, is left to Python). */
static int64_t items_and_id(PyObject *payload, PyObject **items)
{
    PyObject *id = slot(payload, off_downlink_id);
    *items = slot(payload, off_items);
    if (*items == NULL || id == NULL || !PyList_CheckExact(*items)
        || PyList_GET_SIZE(*items) == 0)
        return -1;
    return uint32_of(id);
}

/* chirpstack_gateway.decode_down, v4 shape: items, each with txInfo.timing.delay. */
static int gateway_down(PyObject *payload, int64_t ms, PyObject *info, int64_t n,
                        PyObject *others, PyObject *others_at, PyObject *order)
{
    PyObject *items;
    int64_t downlink_id = items_and_id(payload, &items);
    if (downlink_id < 0 || !Py_IS_TYPE(PyList_GET_ITEM(items, 0), g_item))
        return 0;
    PyObject *first = PyList_GET_ITEM(items, 0);
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
    PyObject *items;
    int64_t downlink_id = items_and_id(payload, &items);
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

/* chirpstack.decode_log: 1 when the event is ignored (any code but DOWNLINK_GATEWAY; absent
 * or null is UNKNOWN), 0 for the decoder to look at. */
static int device_log(PyObject *payload)
{
    PyObject *code = slot(payload, off_code);
    if (code == NULL)
        return 0;
    if (code == Py_None)
        return 1;
    if (!PyUnicode_CheckExact(code))
        return 0;
    int same = PyUnicode_Compare(code, s_downlink_gateway);
    if (same == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return same != 0;
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

#endif
