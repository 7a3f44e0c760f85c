/* The topics a replay has classified, looked up by a line's bytes (_scan.c).
 *
 * A capture's lines name some 40,000 topics (each device's and each gateway's), so the
 * classification of a line's topic is a lookup in a table that does not fit the CPU's
 * caches. Through the kinds dict that took a str made of the topic, and three memory
 * reads out of cache (the dict's index, its entry, the key object). This table is keyed
 * by the topic's bytes instead: its slot holds the hash, the topic's bytes, the entry and
 * the name indexes of the topic's two levels in the batch's table of names, so a line of
 * a known topic costs one read of three cache lines, asked for as soon as the topic is
 * known (topic_prefetch), and no lookups of its names.
 *
 * It mirrors the kinds dict (fastpath.Topics): a topic missing here is looked up there,
 * else classified by the Python loop's own function, and entered in both. Entries are
 * the same objects. The table is bounded like the dict (router.CACHE_MAX): full, it is
 * emptied and fills again. The hash is CPython's hash of bytes (SipHash, seeded per
 * process), the one a str of the same topic has: crafted topics cannot make it collide.
 * Part of _scan.c's one translation unit: included there, after its globals.
 */
#ifndef SLASTREAM_SCAN_TOPICS_H
#define SLASTREAM_SCAN_TOPICS_H

/* Entries at most: a table of 2^17 slots of 192 bytes (24 MiB). More topics than that (a
 * ChirpStack network of more than about 16,000 devices: up to four integration topics
 * each, besides its gateways') empty it now and then: classified again, through the kinds
 * dict, as before this table. */
#define TOPICS_MAX 65536
#define INLINE_KEY 128 /* a topic up to this long is kept in its slot (any ChirpStack one) */

typedef struct {
    uint64_t hash;    /* 0: an empty slot */
    Py_ssize_t len;
    PyObject *info;   /* the kinds entry (kind, two topic levels), a strong reference */
    long kind;        /* its kind, 0 for an entry of another form */
    uint64_t gen;     /* the names table that idx belongs to (Topics.gen), 0: none */
    int64_t idx[2];   /* the name indexes of info[1] and info[2] in that table */
    union {           /* the topic's UTF-8 bytes */
        char bytes[INLINE_KEY];
        char *heap;   /* longer than INLINE_KEY */
    } key;
} Slot;

static inline const char *slot_key(const Slot *s)
{
    return s->len <= INLINE_KEY ? s->key.bytes : s->key.heap;
}

typedef struct {
    PyObject_HEAD
    PyObject *kinds;  /* the Python loop's dict of the same entries */
    Slot *slots;
    Py_ssize_t cap, used;
    PyObject *index;  /* the names table (its index dict) the slots' idx refer to */
    uint64_t gen;     /* counts the names tables seen: a slot's idx is valid iff equal */
    PyObject *tenant; /* the last tenant named (tenant_of, tenant_index), and its index in
                         the names table of tenant_gen (0: none) */
    uint64_t tenant_gen;
    int64_t tenant_idx;
} Topics;

static Py_hash_t hash_bytes(const char *p, Py_ssize_t n)
{
#if PY_VERSION_HEX >= 0x030E0000
    return Py_HashBuffer(p, n);
#else
    return _Py_HashBytes(p, n);
#endif
}

static void topics_empty(Topics *t)
{
    for (Py_ssize_t i = 0; i < t->cap; i++) {
        Slot *s = &t->slots[i];
        if (s->hash != 0) {
            if (s->len > INLINE_KEY)
                PyMem_Free(s->key.heap);
            Py_DECREF(s->info);
        }
    }
    memset(t->slots, 0, (size_t)t->cap * sizeof(Slot));
    t->used = 0;
}

/* The table twice as large, its slots moved over; -1 out of memory. */
static int topics_grow(Topics *t)
{
    Py_ssize_t cap = t->cap * 2;
    Slot *slots = PyMem_Calloc((size_t)cap, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < t->cap; i++) {
        Slot *s = &t->slots[i];
        if (s->hash == 0)
            continue;
        Py_ssize_t at = (Py_ssize_t)(s->hash & (uint64_t)(cap - 1));
        while (slots[at].hash != 0)
            at = (at + 1) & (cap - 1);
        slots[at] = *s;
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* The kinds entry of a topic not in the table: the dict's, else classify's (a new
 * reference); topic: its str, or NULL to make it of the bytes (ASCII, from the line). */
static PyObject *classified(PyObject *kinds, PyObject *classify, const char *p,
                            Py_ssize_t n, PyObject *topic)
{
    PyObject *made = NULL;
    if (topic == NULL && (topic = made = PyUnicode_FromStringAndSize(p, n)) == NULL)
        return NULL;
    PyObject *info = PyDict_GetItemWithError(kinds, topic);
    if (info != NULL)
        Py_INCREF(info);
    else if (!PyErr_Occurred())
        info = PyObject_CallOneArg(classify, topic);
    Py_XDECREF(made);
    return info;
}

/* The table's hash of a topic's bytes (never 0). */
static inline uint64_t topic_hash(const char *p, Py_ssize_t n)
{
    uint64_t h = (uint64_t)hash_bytes(p, n);
    return h != 0 ? h : 1;
}

/* Ask the CPU for the slot where a topic of hash h would be: called as soon as a line's
 * topic is known, its slot arrives while the rest of the line is read. */
static inline void topic_prefetch(const Topics *t, uint64_t h)
{
#if defined(__GNUC__)
    const char *s = (const char *)&t->slots[h & (uint64_t)(t->cap - 1)];
    __builtin_prefetch(s);
    __builtin_prefetch(s + 64);
    __builtin_prefetch(s + 128);
#else
    (void)t;
    (void)h;
#endif
}

/* The slot of a topic given by its UTF-8 bytes and their topic_hash (and its str when
 * the caller has one), entered when new; NULL on error. Valid until the next call. */
static Slot *topic_slot(Topics *t, PyObject *classify, const char *p, Py_ssize_t n,
                        uint64_t h, PyObject *topic)
{
    Py_ssize_t mask = t->cap - 1, at = (Py_ssize_t)(h & (uint64_t)mask);
    for (;;) {
        Slot *s = &t->slots[at];
        if (s->hash == 0)
            break;
        if (s->hash == h && s->len == n && memcmp(slot_key(s), p, (size_t)n) == 0)
            return s;
        at = (at + 1) & mask;
    }
    PyObject *info = classified(t->kinds, classify, p, n, topic);
    if (info == NULL)
        return NULL;
    long kind = 0;
    if (PyTuple_CheckExact(info) && PyTuple_GET_SIZE(info) == 3) {
        kind = PyLong_AsLong(PyTuple_GET_ITEM(info, 0));
        if (kind < 0 || kind >= KINDS) {
            if (PyErr_Occurred()) {
                Py_DECREF(info);
                return NULL;
            }
            kind = 0;
        }
    }
    char *heap = NULL;
    if (n > INLINE_KEY && (heap = PyMem_Malloc((size_t)n)) == NULL) {
        Py_DECREF(info);
        PyErr_NoMemory();
        return NULL;
    }
    if (t->used >= TOPICS_MAX)
        topics_empty(t);
    else if ((t->used + 1) * 2 > t->cap && topics_grow(t) < 0) {
        PyMem_Free(heap);
        Py_DECREF(info);
        return NULL;
    }
    mask = t->cap - 1;
    at = (Py_ssize_t)(h & (uint64_t)mask);
    while (t->slots[at].hash != 0)
        at = (at + 1) & mask;
    Slot *s = &t->slots[at];
    *s = (Slot){h, n, info, kind, 0, {0, 0}, {{0}}};
    if (heap != NULL)
        s->key.heap = heap;
    memcpy(heap != NULL ? heap : s->key.bytes, p, (size_t)n);
    t->used++;
    return s;
}

/* The names table of a batch: the slots' name indexes belong to it from now on. */
static void topics_use(Topics *t, PyObject *index)
{
    if (t->index != index) {
        Py_INCREF(index);
        Py_XSETREF(t->index, index); /* held: no later table can have its address */
        t->gen++;
    }
}

static PyObject *topics_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *kinds;
    static char *keywords[] = {"kinds", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!:Topics", keywords, &PyDict_Type, &kinds))
        return NULL;
    Topics *t = (Topics *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->cap = 1024;
    t->slots = PyMem_Calloc((size_t)t->cap, sizeof(Slot));
    if (t->slots == NULL) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    t->kinds = Py_NewRef(kinds);
    t->gen = 1;
    return (PyObject *)t;
}

static void topics_dealloc(Topics *t)
{
    if (t->slots != NULL) {
        topics_empty(t);
        PyMem_Free(t->slots);
    }
    Py_XDECREF(t->kinds);
    Py_XDECREF(t->index);
    Py_XDECREF(t->tenant);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static Py_ssize_t topics_len(Topics *t)
{
    return t->used;
}

static PySequenceMethods topics_as_sequence = {.sq_length = (lenfunc)topics_len};

static PyTypeObject TopicsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "slastream.sources._scan.Topics",
    .tp_doc = "Topics(kinds): the C loop's table of the topics in kinds, by their bytes "
              "(len: the topics it holds).",
    .tp_basicsize = sizeof(Topics),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = topics_new,
    .tp_dealloc = (destructor)topics_dealloc,
    .tp_as_sequence = &topics_as_sequence,
};

#endif
