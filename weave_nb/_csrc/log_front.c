/* LogFront: StreamTable.log()'s fast path. */
#include "speedups.h"

#define MAX_SEEN_KEYS 32

typedef struct {
    PyObject_HEAD
    PyObject *pending;   /* list of pending items */
    PyObject *fast_keys; /* frozenset of column names a fast row may have */
    Py_ssize_t backlog_limit;
    /* The key objects of the last row checked against `seen_under` (a fast_keys):
     * the next row of one shape, from the same line of code, holds the same objects
     * in the same order, and is checked by comparing pointers. Held references, so
     * no other object can take their addresses. */
    PyObject *seen_under;
    PyObject *seen[MAX_SEEN_KEYS];
    Py_ssize_t n_seen;
    /* The builder of rows with the seen keys in that order, from _row_shape(); -1 for
     * none (rows are then copied as dicts). */
    Py_ssize_t shape_kind;
} LogFrontObject;

static void
forget_seen_keys(LogFrontObject *self)
{
    for (Py_ssize_t j = 0; j < self->n_seen; j++) {
        Py_CLEAR(self->seen[j]);
    }
    self->n_seen = 0;
    self->shape_kind = -1;
    Py_CLEAR(self->seen_under);
}

static void
remember_keys(LogFrontObject *self, PyObject *row, PyObject *keys)
{
    forget_seen_keys(self);
    if (PyDict_GET_SIZE(row) > MAX_SEEN_KEYS) {
        return;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        self->seen[self->n_seen++] = Py_NewRef(key);
    }
    self->seen_under = Py_NewRef(keys);
}

/* 1 if `row` may take the fast path: an exact dict whose keys are exact str in
 * `fast_keys` and whose values are plain. */
static int
is_fast_row(LogFrontObject *self, PyObject *row, int *reshaped)
{
    PyObject *keys = self->fast_keys;
    if (!PyDict_CheckExact(row) || keys == NULL || !PyFrozenSet_CheckExact(keys)) {
        return 0;
    }
    int same = self->seen_under == keys && PyDict_GET_SIZE(row) == self->n_seen;
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        if (!is_plain(value)) {
            return 0;
        }
        if (same && key == self->seen[j++]) {
            continue;
        }
        same = 0;
        /* Exact str: hashing and comparing it runs no Python code that could
         * change the row while it is read. */
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
        int known = PySet_Contains(keys, key);
        if (known <= 0) {
            if (known < 0) {
                PyErr_Clear();
            }
            return 0;
        }
    }
    if (!same) {
        remember_keys(self, row, keys);
        *reshaped = 1;
    }
    return 1;
}

/* The builder number _row_shape() gives the seen keys, or -1. */
static Py_ssize_t
shape_kind_of_seen(LogFrontObject *self)
{
    if (self->n_seen == 0) {
        return -1;
    }
    PyObject *keys = PyTuple_New(self->n_seen);
    if (keys == NULL) {
        return -2;
    }
    for (Py_ssize_t j = 0; j < self->n_seen; j++) {
        PyTuple_SET_ITEM(keys, j, Py_NewRef(self->seen[j]));
    }
    PyObject *kind = PyObject_CallMethodOneArg((PyObject *)self, str_row_shape, keys);
    Py_DECREF(keys);
    if (kind == NULL) {
        return -2;
    }
    Py_ssize_t number = PyLong_AsSsize_t(kind);
    Py_DECREF(kind);
    return (number == -1 && PyErr_Occurred()) ? -2 : (number < 0 ? -1 : number);
}

/* A row of the seen shape as a pending item: (stamp, kind, values in key order). */
static PyObject *
shape_item(PyObject *row, long long now, Py_ssize_t kind)
{
    PyObject *values = PyTuple_New(PyDict_GET_SIZE(row));
    if (values == NULL) {
        return NULL;
    }
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        PyTuple_SET_ITEM(values, j++, Py_NewRef(value));
    }
    PyObject_GC_UnTrack(values); /* plain values only */
    PyObject *items[] = {PyLong_FromLongLong(now), PyLong_FromSsize_t(kind), values};
    return plain_tuple(3, items);
}

static PyObject *
logfront_log(LogFrontObject *self, PyObject *row)
{
    PyObject *pending = self->pending;
    int reshaped = 0;
    if (pending == NULL || !PyList_CheckExact(pending) || !is_fast_row(self, row, &reshaped)) {
        return PyObject_CallMethodOneArg((PyObject *)self, str_log_checked, row);
    }
    if (reshaped) {
        Py_ssize_t kind = shape_kind_of_seen(self);
        if (kind == -2) {
            forget_seen_keys(self); /* asked again with the next row */
            return NULL;
        }
        self->shape_kind = kind;
    }
    long long now;
    if (wall_ns(&now) < 0) {
        return NULL;
    }
    Py_INCREF(pending); /* allocating may collect garbage, and a finalizer may run */
    int appended;
    if (self->shape_kind >= 0) {
        /* A tuple of the values: a third of a dict copy's memory, nothing to resize. */
        PyObject *item = shape_item(row, now, self->shape_kind);
        appended = item != NULL && PyList_Append(pending, item) == 0;
        Py_XDECREF(item);
    }
    else {
        PyObject *copy = PyDict_Copy(row);
        PyObject *stamp = copy != NULL ? PyLong_FromLongLong(now) : NULL;
        appended = stamp != NULL && PyDict_SetItem(copy, str_stamp, stamp) == 0 &&
                   PyList_Append(pending, copy) == 0;
        Py_XDECREF(stamp);
        Py_XDECREF(copy);
    }
    Py_ssize_t backlog = PyList_GET_SIZE(pending);
    Py_DECREF(pending);
    if (!appended) {
        return NULL;
    }
    if (backlog > self->backlog_limit) {
        return PyObject_CallMethodNoArgs((PyObject *)self, str_wait_for_room);
    }
    Py_RETURN_NONE;
}

static int
logfront_traverse(LogFrontObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->pending);
    Py_VISIT(self->fast_keys);
    Py_VISIT(self->seen_under);
    return 0;
}

static int
logfront_clear(LogFrontObject *self)
{
    Py_CLEAR(self->pending);
    Py_CLEAR(self->fast_keys);
    forget_seen_keys(self);
    return 0;
}

static void
logfront_dealloc(LogFrontObject *self)
{
    PyObject_GC_UnTrack(self);
    logfront_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef logfront_members[] = {
    {"_pending", T_OBJECT_EX, offsetof(LogFrontObject, pending), 0,
     "The rows stream's pending list."},
    {"_fast_keys", T_OBJECT_EX, offsetof(LogFrontObject, fast_keys), 0,
     "Column names a row of plain values may have to take the fast path."},
    {"_backlog_limit", T_PYSSIZET, offsetof(LogFrontObject, backlog_limit), 0,
     "Pending items past which log() waits for the flusher."},
    {NULL},
};

static PyMethodDef logfront_methods[] = {
    {"log", (PyCFunction)logfront_log, METH_O,
     "log(row)\n--\n\n"
     "Append one row (a mapping) or many (a list of mappings).\n"
     "\n"
     "Keys are column names; values may be scalars, ``None``, ``str``, ``bytes``,\n"
     "nested dicts and lists, datetimes, numpy scalars and arrays, pandas\n"
     "timestamps, dataclasses, PIL images or :class:`weave_nb.Image`. ``_id`` is\n"
     "kept if given (else generated), ``_timestamp`` is the time of this call.\n"
     "A value that cannot be stored raises ``TypeError``/``ValueError`` here,\n"
     "naming the column and the type; for a list, no row of it is accepted."},
    {NULL},
};

PyTypeObject LogFrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "weave_nb._speedups.LogFront",
    .tp_basicsize = sizeof(LogFrontObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Base of TableWriter: the fast path of log() (see weave_nb.store._log_front).",
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)logfront_traverse,
    .tp_clear = (inquiry)logfront_clear,
    .tp_dealloc = (destructor)logfront_dealloc,
    .tp_members = logfront_members,
    .tp_methods = logfront_methods,
};
