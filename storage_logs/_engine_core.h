/* The engine's state: groups, windows and the Python type's fields (storage_logs/_engine.c). */
#ifndef ASCMON_ENGINE_CORE_H
#define ASCMON_ENGINE_CORE_H

#include "_engine.h"

/* Policy flags per kind (aggregate.Policy.flags): what the record of a group names. */
#define POLICY_PRINCIPAL 1 /* the principal (who) is part of the key */
#define POLICY_OBJECT 2    /* the object is part of the key */

typedef struct { char *p; uint32_t n; } Text; /* owned by its group */
typedef struct { Text code; int64_t n; } Status;
#define INLINE_OBJECTS 4

typedef struct {
    const char *key; /* kind, window start, then each key field with its length (in the groups map) */
    uint32_t klen;
    int kind;
    int64_t start; /* minutes since 1970 */
    int64_t count, first, last; /* first/last: microseconds since 1970 */
    int64_t sum[4], min[4], max[4];
    Status *st;
    uint16_t nst, capst;
    uint64_t objects_inline[INLINE_OBJECTS]; /* distinct objects (digests), the first few inline */
    U64Set *objects;
    uint8_t nobjects_inline;
    uint8_t nsamples, nids, keyed, absorbed;
    Text samples[SAMPLES]; /* output form ("container/object"), sorted */
    Text ids[SAMPLE_IDS];
    Text sas; /* the SAS identity (visible fields, or '#' and the signature hash) */
    int64_t *batches; /* the stored batches (LogBatch ids) whose lines it holds */
    uint32_t nbatches, capbatches;
    uint8_t key16[16];
    int64_t old_size, old_billed; /* sizes of the stored row it was merged with */
} Group;

typedef struct { int kind; int64_t start, end; U64Set seen; } Window; /* repeats per window */

typedef struct {
    PyObject_HEAD
    int ready;
    int nkey[NKINDS], key[NKINDS][WIDTH], width[NKINDS], flags[NKINDS];
    PyObject *kind_of, *settle, *unescape, *settled_values;
    Map ops, settled, groups, windows, by_key16;
    Group *g;
    size_t ng, capg;
    Window *w;
    size_t nw, capw;
    int tracking;
    U64Set known;
    Buf fresh;
    long long accepted, duplicates, rejected;
    int64_t dup_req, dup_resp, raw_req, raw_resp, latest;
    char last_op[64];
    Py_ssize_t last_op_len;
    int last_kind, last_wkind;
    int64_t last_wstart;
    int32_t last_wi;
    int32_t last_gi; /* the group the last line joined (-1: none) */
    Buf key_buf, scratch, sasbuf, text, text2;
    /* feed runs without the GIL (the download thread and the store run Python meanwhile): nogil is the
     * thread state it saved, held how deep the calls back into Python that took it again are nested;
     * busy refuses a second thread while the first is inside */
    PyThreadState *nogil;
    int held, busy;
} Engine;

/* Take the GIL again for a call into Python (a no-op when the engine holds it anyway), and give it back. */
static inline void hold_gil(Engine *e) {
    if (e->nogil && e->held++ == 0) PyEval_RestoreThread(e->nogil);
}
static inline void drop_gil(Engine *e) {
    if (e->nogil && --e->held == 0) e->nogil = PyEval_SaveThread();
}
/* Python errors raised from code that may run without the GIL: -1 */
static inline int engine_nomem(Engine *e) {
    hold_gil(e);
    PyErr_NoMemory();
    drop_gil(e);
    return -1;
}
static inline int engine_error(Engine *e, PyObject *type, const char *message) {
    hold_gil(e);
    PyErr_SetString(type, message);
    drop_gil(e);
    return -1;
}
static inline int engine_has_error(Engine *e) {
    hold_gil(e);
    int has = PyErr_Occurred() != NULL;
    drop_gil(e);
    return has;
}

#define READY(e)                                                                    \
    if (!(e)->ready) {                                                              \
        PyErr_SetString(PyExc_RuntimeError, "Engine.__init__ was not called");      \
        return NULL;                                                                \
    }                                                                               \
    if ((e)->busy) {                                                                \
        PyErr_SetString(PyExc_RuntimeError, "the Engine is in use by another thread"); \
        return NULL;                                                                \
    }

/* _engine_group.c */
int32_t group_new(Engine *e, int kind, int64_t start, const char *key, uint32_t klen);
int group_add(Engine *e, Group *g, Span *f, const int64_t *value, int64_t when);
void group_free(Group *g);
size_t group_distinct(const Group *g);
int group_has_object(const Group *g, uint64_t d);
int group_add_object(Group *g, uint64_t d);
int group_offer_sample(Engine *e, Group *g, const char *text, size_t n);
int group_add_status(Engine *e, Group *g, Span code, int64_t n);
int group_add_id(Engine *e, Group *g, Span id, int first);
int group_add_batch(Group *g, int64_t batch);
/* Output form of a text field: HTML entities decoded when `unescape` (Python's html.unescape for what C
 * does not decode the same way), invalid UTF-8 replaced as Python's "replace" does, NUL as U+FFFD. */
int out_text(Engine *e, Span raw, int unescape, Buf *dst);

/* _engine_emit.c */
int group_key16(Engine *e, Group *g); /* the group's stored key: SHA-256 of its policy and key, first 16 bytes */
PyObject *Engine_keys(Engine *e, PyObject *unused);
PyObject *Engine_windows(Engine *e, PyObject *unused);
PyObject *Engine_absorb(Engine *e, PyObject *rows);
PyObject *Engine_emit(Engine *e, PyObject *args, PyObject *kwds);
PyObject *row_columns(void);

#endif
