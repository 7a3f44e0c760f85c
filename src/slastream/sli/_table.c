/* The delivery SLI's tables of uplinks in C (sli/table.py says what they hold and why).
 *
 * A ``Table`` maps a key (an int64 >= 0: DevAddr << 16 | FCnt) to ``width`` int64 values.
 * Open addressing with linear probing in one array of slots, each slot its key followed by
 * its values (a lookup that hits reads one cache line); -1 marks a free slot. A removal
 * shifts the entries after it back (no deletion markers), so a table that has seen millions
 * of uplinks come and go probes as short as a new one. It doubles past 5/8 full and halves
 * below 1/8 full: its memory follows the uplinks it holds.
 *
 * Python sees a mapping (``get``, ``t[k]``, ``t[k] = v``, ``del t[k]``, ``k in t``,
 * ``len``) whose value is an int (width 1) or a tuple of ints, for the per-event path, and
 * methods over whole arrays (any C-contiguous buffer of int64, or of bools for a mask) for
 * the per-batch path: ``find``, ``contains``, ``put``, ``remove``, ``dump``.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define FREE (-1)
#define MAX_WIDTH 4
#define MIN_CAP 16

typedef struct {
    PyObject_HEAD
    int width;        /* values per key */
    size_t stride;    /* int64s per slot: 1 + width */
    size_t cap;       /* slots, a power of two */
    size_t len;       /* keys held */
    int64_t *slots;
} Table;

static inline size_t home(int64_t key, size_t mask)
{
    /* the finaliser of splitmix64: keys that differ in their low bits (FCnt) or their
     * high bits (DevAddr) spread over the whole table */
    uint64_t x = (uint64_t)key;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (size_t)x & mask;
}

/* The slot holding ``key``, or the free slot where it would go. */
static inline int64_t *probe(const Table *t, int64_t key)
{
    size_t mask = t->cap - 1, i = home(key, mask);
    for (;;) {
        int64_t *slot = t->slots + i * t->stride;
        if (*slot == key || *slot == FREE)
            return slot;
        i = (i + 1) & mask;
    }
}

static int64_t *new_slots(size_t cap, size_t stride)
{
    int64_t *slots = PyMem_Malloc(cap * stride * sizeof(int64_t));
    if (slots == NULL)
        return NULL;
    for (size_t i = 0; i < cap; i++)
        slots[i * stride] = FREE;
    return slots;
}

/* Move every entry into a table of ``cap`` slots. */
static int resize(Table *t, size_t cap)
{
    int64_t *old = t->slots, *slots = new_slots(cap, t->stride);
    size_t old_cap = t->cap;
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        int64_t *from = old + i * t->stride;
        if (*from != FREE)
            memcpy(probe(t, *from), from, t->stride * sizeof(int64_t));
    }
    PyMem_Free(old);
    return 0;
}

/* Room for ``more`` keys within the load limit. */
static int reserve(Table *t, size_t more)
{
    size_t cap = t->cap;
    while ((t->len + more) * 8 > cap * 5)
        cap *= 2;
    return cap == t->cap ? 0 : resize(t, cap);
}

/* Halve while below 1/8 full, after removals. */
static int shrink(Table *t)
{
    size_t cap = t->cap;
    while (cap > MIN_CAP && t->len * 8 < cap)
        cap /= 2;  /* below 1/4 full after it, well within the load limit */
    return cap == t->cap ? 0 : resize(t, cap);
}

/* Remove the entry in ``slot``: later entries of its run that may sit earlier move back. */
static void erase(Table *t, int64_t *slot)
{
    size_t mask = t->cap - 1, stride = t->stride;
    size_t i = (size_t)(slot - t->slots) / stride, j = i;
    for (;;) {
        j = (j + 1) & mask;
        int64_t *at = t->slots + j * stride;
        if (*at == FREE)
            break;
        size_t h = home(*at, mask);
        /* the entry at j stays if its home lies cyclically in (i, j] */
        int stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            memcpy(t->slots + i * stride, at, stride * sizeof(int64_t));
            i = j;
        }
    }
    t->slots[i * stride] = FREE;
    t->len--;
}

/* ------------------------------------------------------------------ Python objects */

static int key_of(PyObject *obj, int64_t *key)
{
    long long k = PyLong_AsLongLong(obj);
    if (k == -1 && PyErr_Occurred())
        return -1;
    if (k < 0) {
        PyErr_SetString(PyExc_ValueError, "a table key is >= 0");
        return -1;
    }
    *key = k;
    return 0;
}

static PyObject *value_of(const Table *t, const int64_t *slot)
{
    if (t->width == 1)
        return PyLong_FromLongLong(slot[1]);
    PyObject *tuple = PyTuple_New(t->width);
    if (tuple == NULL)
        return NULL;
    for (int c = 0; c < t->width; c++) {
        PyObject *v = PyLong_FromLongLong(slot[1 + c]);
        if (v == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, c, v);
    }
    return tuple;
}

/* ``value`` (an int, or a sequence of ``width`` ints) into ``out``. */
static int set_value(const Table *t, PyObject *value, int64_t *out)
{
    if (t->width == 1) {
        long long v = PyLong_AsLongLong(value);
        if (v == -1 && PyErr_Occurred())
            return -1;
        out[0] = v;
        return 0;
    }
    PyObject *seq = PySequence_Fast(value, "a table value is a tuple of ints");
    if (seq == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(seq) != t->width) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "a table value has %d ints", t->width);
        return -1;
    }
    for (int c = 0; c < t->width; c++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, c));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return -1;
        }
        out[c] = v;
    }
    Py_DECREF(seq);
    return 0;
}

static PyObject *Table_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"width", NULL};
    int width;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i", kwlist, &width))
        return NULL;
    if (width < 1 || width > MAX_WIDTH) {
        PyErr_Format(PyExc_ValueError, "width: 1 to %d values a key", MAX_WIDTH);
        return NULL;
    }
    Table *t = (Table *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->width = width;
    t->stride = 1 + (size_t)width;
    t->cap = MIN_CAP;
    t->len = 0;
    t->slots = new_slots(t->cap, t->stride);
    if (t->slots == NULL) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    return (PyObject *)t;
}

static void Table_dealloc(Table *t)
{
    PyMem_Free(t->slots);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static Py_ssize_t Table_len(Table *t)
{
    return (Py_ssize_t)t->len;
}

static int Table_contains(Table *t, PyObject *obj)
{
    int64_t key;
    if (!PyLong_Check(obj))
        return 0;
    if (key_of(obj, &key) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError) &&
                !PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    return *probe(t, key) == key;
}

static PyObject *Table_getitem(Table *t, PyObject *obj)
{
    int64_t key;
    if (key_of(obj, &key) < 0)
        return NULL;
    int64_t *slot = probe(t, key);
    if (*slot != key) {
        PyErr_SetObject(PyExc_KeyError, obj);
        return NULL;
    }
    return value_of(t, slot);
}

static int Table_setitem(Table *t, PyObject *obj, PyObject *value)
{
    int64_t key, values[MAX_WIDTH];
    if (key_of(obj, &key) < 0)
        return -1;
    if (value == NULL) {  /* del t[key] */
        int64_t *slot = probe(t, key);
        if (*slot != key) {
            PyErr_SetObject(PyExc_KeyError, obj);
            return -1;
        }
        erase(t, slot);
        return shrink(t);
    }
    if (set_value(t, value, values) < 0 || reserve(t, 1) < 0)
        return -1;
    int64_t *slot = probe(t, key);
    if (*slot == FREE) {
        *slot = key;
        t->len++;
    }
    memcpy(slot + 1, values, (size_t)t->width * sizeof(int64_t));
    return 0;
}

static PyObject *Table_get(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    int64_t key;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    if (key_of(args[0], &key) < 0)
        return NULL;
    int64_t *slot = probe(t, key);
    if (*slot == key)
        return value_of(t, slot);
    PyObject *dflt = nargs == 2 ? args[1] : Py_None;
    Py_INCREF(dflt);
    return dflt;
}

/* ------------------------------------------------------------------- whole arrays */

typedef struct {
    Py_buffer views[1 + MAX_WIDTH + 1];
    int held;
} Views;

static void release(Views *v)
{
    for (int i = 0; i < v->held; i++)
        PyBuffer_Release(&v->views[i]);
    v->held = 0;
}

/* A C-contiguous one-dimensional buffer of ``itemsize`` bytes an item, held in ``v``. */
static void *view(Views *v, PyObject *obj, Py_ssize_t itemsize, int writable,
                  Py_ssize_t *n, const char *what)
{
    Py_buffer *b = &v->views[v->held];
    if (PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT |
                           (writable ? PyBUF_WRITABLE : 0)) < 0)
        return NULL;
    v->held++;
    /* int64 (numpy's "l" or "q", native order) or one-byte bools; never a float */
    const char *f = b->format == NULL ? "B" : b->format;
    if (*f == '@' || *f == '=' || *f == '<')
        f++;
    int kind_ok = itemsize == 8 ? (strcmp(f, "l") == 0 || strcmp(f, "q") == 0)
                                : (strcmp(f, "?") == 0 || strcmp(f, "b") == 0 ||
                                   strcmp(f, "B") == 0);
    if (b->ndim != 1 || b->itemsize != itemsize || !kind_ok) {
        PyErr_Format(PyExc_ValueError, "%s: a one-dimensional array of %s", what,
                     itemsize == 8 ? "int64" : "bools");
        return NULL;
    }
    if (*n >= 0 && b->shape[0] != *n) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items, the keys are %zd", what, b->shape[0],
                     *n);
        return NULL;
    }
    *n = b->shape[0];
    return b->buf;
}

/* The keys (args[0]) and ``width`` columns of as many items after ``skip`` other arrays
 * (args[1..skip], of ``skip_size``-byte items). */
static int columns(Table *t, Views *v, PyObject *const *args, Py_ssize_t nargs,
                   int skip, Py_ssize_t skip_size, int writable, int64_t **keys,
                   void **others, int64_t **cols, Py_ssize_t *n)
{
    if (nargs != 1 + skip + t->width) {
        PyErr_Format(PyExc_TypeError, "%d arrays: the keys, %s%d columns",
                     1 + skip + t->width, skip ? "a mask, " : "", t->width);
        return -1;
    }
    *n = -1;
    /* only dump (no mask, writable columns) writes the keys */
    if ((*keys = view(v, args[0], 8, writable && !skip, n, "keys")) == NULL)
        return -1;
    for (int i = 0; i < skip; i++)
        if ((others[i] = view(v, args[1 + i], skip_size, writable, n, "mask")) == NULL)
            return -1;
    for (int c = 0; c < t->width; c++)
        if ((cols[c] = view(v, args[1 + skip + c], 8, writable, n, "column")) == NULL)
            return -1;
    return 0;
}

static int check_keys(const int64_t *keys, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (keys[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "a table key is >= 0");
            return -1;
        }
    return 0;
}

/* find(keys, found, *columns): found[i] whether keys[i] is held, its values into the
 * columns (left as they were where it is not). */
static PyObject *Table_find(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    Views v = {.held = 0};
    int64_t *keys;
    void *found;
    int64_t *cols[MAX_WIDTH];
    Py_ssize_t n;
    if (columns(t, &v, args, nargs, 1, 1, 1, &keys, &found, cols, &n) < 0) {
        release(&v);
        return NULL;
    }
    char *hit = found;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t *slot = probe(t, keys[i]);
        hit[i] = *slot == keys[i] && keys[i] >= 0;
        if (hit[i])
            for (int c = 0; c < t->width; c++)
                cols[c][i] = slot[1 + c];
    }
    release(&v);
    Py_RETURN_NONE;
}

/* contains(keys, out): out[i] whether keys[i] is held. */
static PyObject *Table_contains_all(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    Views v = {.held = 0};
    Py_ssize_t n = -1;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "contains(keys, out)");
        return NULL;
    }
    const int64_t *keys = view(&v, args[0], 8, 0, &n, "keys");
    char *out = keys == NULL ? NULL : view(&v, args[1], 1, 1, &n, "out");
    if (out == NULL) {
        release(&v);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = *probe(t, keys[i]) == keys[i] && keys[i] >= 0;
    release(&v);
    Py_RETURN_NONE;
}

/* put(keys, *columns): each key's values set, in order (a later repeat of a key wins). */
static PyObject *Table_put(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    Views v = {.held = 0};
    int64_t *keys;
    int64_t *cols[MAX_WIDTH];
    Py_ssize_t n;
    if (columns(t, &v, args, nargs, 0, 0, 0, &keys, NULL, cols, &n) < 0
            || check_keys(keys, n) < 0 || reserve(t, (size_t)n) < 0) {
        release(&v);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t *slot = probe(t, keys[i]);
        if (*slot == FREE) {
            *slot = keys[i];
            t->len++;
        }
        for (int c = 0; c < t->width; c++)
            slot[1 + c] = cols[c][i];
    }
    release(&v);
    Py_RETURN_NONE;
}

/* remove(keys): the keys held removed; returns how many were. */
static PyObject *Table_remove(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    Views v = {.held = 0};
    Py_ssize_t n = -1, removed = 0;
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "remove(keys)");
        return NULL;
    }
    const int64_t *keys = view(&v, args[0], 8, 0, &n, "keys");
    if (keys == NULL) {
        release(&v);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t *slot = probe(t, keys[i]);
        if (*slot == keys[i] && keys[i] >= 0) {
            erase(t, slot);
            removed++;
        }
    }
    release(&v);
    if (shrink(t) < 0)
        return NULL;
    return PyLong_FromSsize_t(removed);
}

/* dump(keys, *columns): every entry into arrays of len(table) items, in slot order. */
static PyObject *Table_dump(Table *t, PyObject *const *args, Py_ssize_t nargs)
{
    Views v = {.held = 0};
    int64_t *cols[MAX_WIDTH], *keys;
    Py_ssize_t n;
    if (columns(t, &v, args, nargs, 0, 0, 1, &keys, NULL, cols, &n) < 0) {
        release(&v);
        return NULL;
    }
    if ((size_t)n != t->len) {
        release(&v);
        PyErr_Format(PyExc_ValueError, "dump: arrays of %zu items", t->len);
        return NULL;
    }
    Py_ssize_t at = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const int64_t *slot = t->slots + i * t->stride;
        if (*slot == FREE)
            continue;
        keys[at] = *slot;
        for (int c = 0; c < t->width; c++)
            cols[c][at] = slot[1 + c];
        at++;
    }
    release(&v);
    Py_RETURN_NONE;
}

static PyObject *Table_nbytes(Table *t, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(t->cap * t->stride * sizeof(int64_t));
}

static PyObject *Table_width(Table *t, void *closure)
{
    (void)closure;
    return PyLong_FromLong(t->width);
}

static PyMethodDef Table_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Table_get, METH_FASTCALL,
     "get(key, default=None): the key's value, or default"},
    {"find", (PyCFunction)(void (*)(void))Table_find, METH_FASTCALL,
     "find(keys, found, *columns): whether each key is held, its values into the columns"},
    {"contains", (PyCFunction)(void (*)(void))Table_contains_all, METH_FASTCALL,
     "contains(keys, out): whether each key is held"},
    {"put", (PyCFunction)(void (*)(void))Table_put, METH_FASTCALL,
     "put(keys, *columns): each key's values set, in order"},
    {"remove", (PyCFunction)(void (*)(void))Table_remove, METH_FASTCALL,
     "remove(keys): the keys held removed; how many were"},
    {"dump", (PyCFunction)(void (*)(void))Table_dump, METH_FASTCALL,
     "dump(keys, *columns): every entry, in slot order"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Table_getset[] = {
    {"nbytes", (getter)Table_nbytes, NULL, "bytes of the slots", NULL},
    {"width", (getter)Table_width, NULL, "values a key", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods Table_mapping = {
    .mp_length = (lenfunc)Table_len,
    .mp_subscript = (binaryfunc)Table_getitem,
    .mp_ass_subscript = (objobjargproc)Table_setitem,
};

static PySequenceMethods Table_sequence = {
    .sq_contains = (objobjproc)Table_contains,
};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "slastream.sli._table.Table",
    .tp_doc = "Table(width): int64 keys >= 0 to width int64 values (sli/table.py)",
    .tp_basicsize = sizeof(Table),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Table_new,
    .tp_dealloc = (destructor)Table_dealloc,
    .tp_methods = Table_methods,
    .tp_getset = Table_getset,
    .tp_as_mapping = &Table_mapping,
    .tp_as_sequence = &Table_sequence,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_table", "The delivery SLI's tables of uplinks (sli/table.py).",
    -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__table(void)
{
    if (PyType_Ready(&TableType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TableType);
    if (PyModule_AddObject(m, "Table", (PyObject *)&TableType) < 0) {
        Py_DECREF(&TableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
