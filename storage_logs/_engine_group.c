/* One group of the engine: what a line adds to it, and the pieces a stored row merges into it. */
#include "_engine_core.h"

static int text_set(Text *t, const char *p, size_t n) {
    char *copy = malloc(n ? n : 1);
    if (!copy) return -1;
    if (n) memcpy(copy, p, n);
    free(t->p);
    t->p = copy;
    t->n = (uint32_t)n;
    return 0;
}

static int text_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

int32_t group_new(Engine *e, int kind, int64_t start, const char *key, uint32_t klen) {
    if (e->ng == e->capg) {
        size_t cap = e->capg ? e->capg * 2 : 1024;
        Group *g = realloc(e->g, cap * sizeof(Group));
        if (!g) return engine_nomem(e);
        e->g = g;
        e->capg = cap;
    }
    int inserted;
    const char *stored;
    int32_t gi = map_put(&e->groups, key, klen, (int32_t)e->ng, &inserted, &stored);
    if (gi < 0) return engine_nomem(e);
    Group *g = &e->g[gi];
    memset(g, 0, sizeof *g);
    g->key = stored;
    g->klen = klen;
    g->kind = kind;
    g->start = start;
    g->first = INT64_MAX;
    g->last = INT64_MIN;
    for (int i = 0; i < 4; i++) g->min[i] = INT64_MAX, g->max[i] = INT64_MIN;
    e->ng++;
    return gi;
}

void group_free(Group *g) {
    for (int i = 0; i < g->nst; i++) free(g->st[i].code.p);
    free(g->st);
    if (g->objects) {
        u64set_free(g->objects);
        free(g->objects);
    }
    for (int i = 0; i < g->nsamples; i++) free(g->samples[i].p);
    for (int i = 0; i < g->nids; i++) free(g->ids[i].p);
    free(g->sas.p);
    free(g->batches);
    memset(g, 0, sizeof *g);
}

/* ---- distinct objects: a few digests inline, a set beyond */

size_t group_distinct(const Group *g) { return g->objects ? u64set_size(g->objects) : g->nobjects_inline; }

int group_has_object(const Group *g, uint64_t d) {
    if (g->objects) return u64set_has(g->objects, d);
    for (int i = 0; i < g->nobjects_inline; i++)
        if (g->objects_inline[i] == d) return 1;
    return 0;
}

/* 1 when new, 0 when known, -1 when out of memory */
int group_add_object(Group *g, uint64_t d) {
    if (!g->objects) {
        for (int i = 0; i < g->nobjects_inline; i++)
            if (g->objects_inline[i] == d) return 0;
        if (g->nobjects_inline < INLINE_OBJECTS) {
            g->objects_inline[g->nobjects_inline++] = d;
            return 1;
        }
        U64Set *set = malloc(sizeof *set);
        if (!set || u64set_init(set, 32) < 0) { free(set); return -1; }
        for (int i = 0; i < g->nobjects_inline; i++)
            if (u64set_add(set, g->objects_inline[i]) < 0) { u64set_free(set); free(set); return -1; }
        g->objects = set;
    }
    return u64set_add(g->objects, d);
}

/* ---- samples, statuses, request ids */

/* A distinct object's output form ("container/object") as a sample candidate: the three smallest stay. */
int group_offer_sample(Engine *e, Group *g, const char *text, size_t n) {
    int at = g->nsamples;
    for (int i = 0; i < g->nsamples; i++) {
        int c = text_cmp(text, n, g->samples[i].p, g->samples[i].n);
        if (c == 0) return 0;
        if (c < 0 && at == g->nsamples) at = i;
    }
    if (at >= SAMPLES) return 0;
    Text t = {NULL, 0};
    if (text_set(&t, text, n) < 0) return engine_nomem(e);
    if (g->nsamples == SAMPLES) free(g->samples[SAMPLES - 1].p);
    else g->nsamples++;
    memmove(&g->samples[at + 1], &g->samples[at], (g->nsamples - 1 - at) * sizeof(Text));
    g->samples[at] = t;
    (void)e;
    return 0;
}

int group_add_status(Engine *e, Group *g, Span code, int64_t n) {
    for (int i = 0; i < g->nst; i++)
        if (g->st[i].code.n == code.n && memcmp(g->st[i].code.p, code.p, code.n) == 0) {
            if (checked_add64(&g->st[i].n, n)) return engine_error(e, PyExc_OverflowError, "a status count would overflow");
            return 0;
        }
    if (g->nst == g->capst) {
        uint16_t cap = g->capst ? g->capst * 2 : 2;
        Status *st = realloc(g->st, cap * sizeof(Status));
        if (!st) return engine_nomem(e);
        g->st = st;
        g->capst = cap;
    }
    g->st[g->nst] = (Status){{NULL, 0}, n};
    if (text_set(&g->st[g->nst].code, code.p, code.n) < 0) return engine_nomem(e);
    g->nst++;
    (void)e;
    return 0;
}

int group_add_id(Engine *e, Group *g, Span id, int first) {
    for (int i = 0; i < g->nids; i++)
        if (g->ids[i].n == id.n && memcmp(g->ids[i].p, id.p, id.n) == 0) return 0;
    if (g->nids == SAMPLE_IDS && !first) return 0;
    Text t = {NULL, 0};
    if (text_set(&t, id.p, id.n) < 0) return engine_nomem(e);
    if (first) { /* a stored row's ids come before the batch's own */
        if (g->nids == SAMPLE_IDS) free(g->ids[SAMPLE_IDS - 1].p);
        else g->nids++;
        memmove(&g->ids[1], &g->ids[0], (g->nids - 1) * sizeof(Text));
        g->ids[0] = t;
    } else {
        g->ids[g->nids++] = t;
    }
    (void)e;
    return 0;
}

/* a stored batch that holds some of the group's lines (kept once, in order) */
int group_add_batch(Group *g, int64_t batch) {
    for (uint32_t i = 0; i < g->nbatches; i++)
        if (g->batches[i] == batch) return 0;
    if (g->nbatches == g->capbatches) {
        uint32_t cap = g->capbatches ? g->capbatches * 2 : 2;
        int64_t *b = realloc(g->batches, cap * sizeof *b);
        if (!b) return -1;
        g->batches = b;
        g->capbatches = cap;
    }
    g->batches[g->nbatches++] = batch;
    return 0;
}

/* ---- what one line adds */

int group_add(Engine *e, Group *g, Span *f, const int64_t *value, int64_t when) {
    g->count++;
    if (when < g->first) g->first = when;
    if (when > g->last) g->last = when;
    for (int i = 0; i < 4; i++) {
        g->sum[i] += value[i]; /* checked by the caller */
        if (value[i] < g->min[i]) g->min[i] = value[i];
        if (value[i] > g->max[i]) g->max[i] = value[i];
    }
    if (group_add_status(e, g, f[HTTP], 1) < 0) return -1;
    Buf *b = &e->key_buf; /* the line's spans may point into e->scratch (JSON) */
    b->n = 0;
    uint32_t clen = (uint32_t)f[CONTAINER].n;
    if (buf_put(b, &clen, sizeof clen) < 0 || buf_put(b, f[CONTAINER].p, f[CONTAINER].n) < 0 ||
        buf_put(b, f[OBJECT].p, f[OBJECT].n) < 0)
        return engine_nomem(e);
    int fresh = group_add_object(g, request_digest(b->p, b->n));
    if (fresh < 0) return engine_nomem(e);
    if (fresh) {
        Span c = f[CONTAINER], o = f[OBJECT];
        int plain = ascii_only(c.p, c.n) && ascii_only(o.p, o.n) && !memchr(c.p, '&', c.n) &&
                    !memchr(o.p, '&', o.n) && !memchr(c.p, 0, c.n) && !memchr(o.p, 0, o.n);
        Buf *t = &e->text;
        t->n = 0;
        if (plain) {
            if (buf_put(t, c.p, c.n) < 0 || buf_byte(t, '/') < 0 || buf_put(t, o.p, o.n) < 0)
                return engine_nomem(e);
        } else {
            Buf part = {0};
            int bad = out_text(e, c, 1, &part) < 0 || buf_put(t, part.p, part.n) < 0 || buf_byte(t, '/') < 0 ||
                      out_text(e, o, 1, &part) < 0 || buf_put(t, part.p, part.n) < 0;
            free(part.p);
            if (bad) return engine_has_error(e) ? -1 : engine_nomem(e);
        }
        if (redact_signatures(t) < 0) return engine_nomem(e);
        if (group_offer_sample(e, g, t->p, t->n) < 0) return -1;
    }
    if (g->nids < SAMPLE_IDS && group_add_id(e, g, f[RID], 0) < 0) return -1;
    if (!g->sas.p && f[SIG].n && text_set(&g->sas, f[SIG].p, f[SIG].n) < 0) return engine_nomem(e);
    return 0;
}

/* ---- output form of a text field */

static int put_repaired(Buf *dst, const char *p, size_t n) {
    const char *e = p + n;
    while (p < e) {
        const char *z = memchr(p, 0, e - p);
        if (!z) return buf_put(dst, p, e - p);
        if (buf_put(dst, p, z - p) < 0 || buf_put(dst, "\xEF\xBF\xBD", 3) < 0) return -1;
        p = z + 1;
    }
    return 0;
}

/* What only Python decodes the same way (rare entities, invalid UTF-8): html.unescape when `s` still
 * holds an '&' it must decode, then UTF-8 with U+FFFD for what is invalid. Holds the GIL for it. */
static int out_text_python(Engine *e, Span s, int unescape, Buf *dst) {
    hold_gil(e);
    PyObject *text = PyUnicode_DecodeUTF8(s.p, s.n, "replace");
    PyObject *r = text && unescape ? PyObject_CallOneArg(e->unescape, text) : Py_XNewRef(text);
    Py_XDECREF(text);
    PyObject *bytes = r ? PyUnicode_AsEncodedString(r, "utf-8", "replace") : NULL;
    Py_XDECREF(r);
    int bad = !bytes || put_repaired(dst, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes)) < 0;
    if (bytes && bad) PyErr_NoMemory();
    Py_XDECREF(bytes);
    drop_gil(e);
    return bad ? -1 : 0;
}

int out_text(Engine *e, Span raw, int unescape, Buf *dst) {
    dst->n = 0;
    Span s = raw;
    if (unescape && memchr(s.p, '&', s.n)) {
        int fast = html_unescape_fast(s, &e->text2);
        if (fast < 0) return engine_nomem(e);
        if (!fast) return out_text_python(e, s, 1, dst);
        s = (Span){e->text2.p, (Py_ssize_t)e->text2.n};
    }
    if (!utf8_valid(s.p, s.n)) return out_text_python(e, s, 0, dst);
    return put_repaired(dst, s.p, s.n) < 0 ? engine_nomem(e) : 0;
}
