/* The flusher's bookkeeping: runs of pending items of one kind, generated ids. */
#include "speedups.h"

static int
item_kind(PyObject *item, Py_ssize_t *kind)
{
    if (PyDict_CheckExact(item)) {
        *kind = -1;
        return 0;
    }
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_SetString(PyExc_TypeError, "a pending item is a dict or a 3-tuple");
        return -1;
    }
    *kind = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
    return (*kind == -1 && PyErr_Occurred()) ? -1 : 0;
}

PyObject *
item_runs(PyObject *module, PyObject *items)
{
    if (!PyList_CheckExact(items)) {
        return PyErr_Format(PyExc_TypeError, "item_runs takes a list");
    }
    Py_ssize_t n = PyList_GET_SIZE(items), start = 0, previous = 0;
    PyObject *runs = PyList_New(0);
    if (runs == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_ssize_t kind = 0;
        if (i < n && item_kind(PyList_GET_ITEM(items, i), &kind) < 0) {
            Py_DECREF(runs);
            return NULL;
        }
        if (i == n || (i > 0 && kind != previous)) {
            if (i > start || n == 0) { /* no items: one empty run, as in Python */
                PyObject *run = PyObject_CallFunction((PyObject *)&PyRange_Type, "nn", start, i);
                if (run == NULL || PyList_Append(runs, run) < 0) {
                    Py_XDECREF(run);
                    Py_DECREF(runs);
                    return NULL;
                }
                Py_DECREF(run);
            }
            start = i;
        }
        previous = kind;
    }
    return runs;
}

PyObject *
numbered_text(PyObject *module, PyObject *args)
{
    const char *prefix;
    Py_ssize_t prefix_size, n;
    long long start;
    if (!PyArg_ParseTuple(args, "s#Ln:numbered_text", &prefix, &prefix_size, &start, &n)) {
        return NULL;
    }
    if (start < 0 || n < 0 || (n > 0 && start > LLONG_MAX - (n - 1))) {
        return PyErr_Format(PyExc_ValueError, "numbers must be from 0 to 2**63 - 1");
    }
    Py_ssize_t widest = prefix_size + 20;
    if (n > 0 && widest > INT32_MAX / n) {
        return PyErr_Format(PyExc_OverflowError, "too much text for one string array");
    }
    char *offset_bytes, *out;
    PyObject *offsets = new_bytes((n + 1) * 4, &offset_bytes);
    if (offsets == NULL) {
        return NULL;
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, n * widest);
    if (data == NULL) {
        Py_DECREF(offsets);
        return NULL;
    }
    out = PyBytes_AS_STRING(data);
    int32_t *offset = (int32_t *)offset_bytes;
    Py_ssize_t at = 0;
    char digits[24];
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long number = (unsigned long long)(start + i);
        int count = 0;
        do {
            digits[count++] = (char)('0' + number % 10);
            number /= 10;
        } while (number);
        memcpy(out + at, prefix, (size_t)prefix_size);
        at += prefix_size;
        while (count) {
            out[at++] = digits[--count];
        }
        offset[i + 1] = (int32_t)at;
    }
    if (_PyBytes_Resize(&data, at) < 0) {
        Py_DECREF(offsets);
        return NULL;
    }
    return Py_BuildValue("(NN)", offsets, data);
}
