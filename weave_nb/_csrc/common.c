/* What the other files share: the module's state, and small helpers. */
#include "speedups.h"

PyTypeObject *plain_types[MAX_PLAIN_TYPES];
int n_plain_types = 0;

PyObject *current_var = NULL;
PyObject *counter = NULL;
PyObject *switch_obj = NULL;
PyObject *state_obj = NULL;

PyObject *str_enabled, *str_hooked, *str_call, *str_ended, *str_log_checked, *str_wait_for_room,
    *str_row_shape, *str_stamp;

#if !(defined(CLOCK_REALTIME) && defined(CLOCK_MONOTONIC))
PyObject *time_ns_fn = NULL, *perf_counter_ns_fn = NULL;

int
call_clock(PyObject *fn, long long *out)
{
    PyObject *value = PyObject_CallNoArgs(fn);
    if (value == NULL) {
        return -1;
    }
    *out = PyLong_AsLongLong(value);
    Py_DECREF(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}
#endif

int
all_plain(PyObject *tuple)
{
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!is_plain(PyTuple_GET_ITEM(tuple, i))) {
            return 0;
        }
    }
    return 1;
}

int
all_plain_values(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!is_plain(value)) {
            return 0;
        }
    }
    return 1;
}

/* A new tuple of `n` new references (stolen), or NULL if one of them is NULL.
 * Left untracked by the garbage collector: callers pass plain values and tuples
 * of plain values only, which cannot be part of a cycle, and a backlog of tracked
 * tuples would make every collection meanwhile slower (the collector untracks
 * such tuples itself, but only once it has scanned them). */
PyObject *
plain_tuple(Py_ssize_t n, PyObject **items)
{
    PyObject *tuple = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            goto fail;
        }
    }
    tuple = PyTuple_New(n);
    if (tuple == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(tuple, i, items[i]);
    }
    PyObject_GC_UnTrack(tuple);
    return tuple;
fail:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(items[i]);
    }
    return NULL;
}

PyObject *
new_bytes(Py_ssize_t size, char **data)
{
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
    if (bytes != NULL) {
        *data = PyBytes_AS_STRING(bytes);
        memset(*data, 0, (size_t)size);
    }
    return bytes;
}

/* The text of `value` as UTF-8 (str or bytes), or NULL without an error set if it
 * has none (a lone surrogate: the Python path escapes it). */
const char *
utf8_of(PyObject *value, int kind, Py_ssize_t *size)
{
    if (kind == COL_BYTES) {
        *size = PyBytes_GET_SIZE(value);
        return PyBytes_AS_STRING(value);
    }
    const char *text = PyUnicode_AsUTF8AndSize(value, size);
    if (text == NULL) {
        PyErr_Clear();
    }
    return text;
}
