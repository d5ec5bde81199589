/* The flusher's conversion: rows (dicts, or tuples of a shape's values) and lists
 * of plain values straight into Arrow buffers. */
#include "speedups.h"

/* One column being built in a single pass over the rows. Its type is the first
 * value's; a later value of another type (or one Arrow stores otherwise: an int
 * past int64, text without a UTF-8 form) makes it MIXED, and such a column is
 * handed back as the list of its values for Arrow's own inference. */
typedef struct {
    int kind;
    Py_ssize_t nulls;
    PyObject *validity, *offsets, *data;
    char *valid_bits, *out;
    int32_t *offset;
    Py_ssize_t at, capacity;
} ColumnBuild;

static int
kind_of(PyObject *value)
{
    if (PyLong_CheckExact(value)) {
        return COL_INT;
    }
    if (PyFloat_CheckExact(value)) {
        return COL_FLOAT;
    }
    if (PyBool_Check(value)) {
        return COL_BOOL;
    }
    if (PyUnicode_CheckExact(value)) {
        return COL_STR;
    }
    if (PyBytes_CheckExact(value)) {
        return COL_BYTES;
    }
    return COL_MIXED;
}

static int
start_column(ColumnBuild *column, int kind, Py_ssize_t n)
{
    column->kind = kind;
    if (kind == COL_MIXED) {
        return 0;
    }
    column->validity = new_bytes((n + 7) / 8, &column->valid_bits);
    if (column->validity == NULL) {
        return -1;
    }
    if (kind == COL_STR || kind == COL_BYTES) {
        char *offsets = NULL;
        column->offsets = new_bytes((n + 1) * 4, &offsets);
        if (column->offsets == NULL) {
            return -1;
        }
        column->offset = (int32_t *)offsets;
        column->capacity = 16 * n + 64;
        column->data = PyBytes_FromStringAndSize(NULL, column->capacity);
        column->out = column->data != NULL ? PyBytes_AS_STRING(column->data) : NULL;
    }
    else {
        column->data = new_bytes(kind == COL_BOOL ? (n + 7) / 8 : n * 8, &column->out);
    }
    return column->data == NULL ? -1 : 0;
}

/* Row `i`'s value into its column; -1 on a memory error. */
static int
store_value(ColumnBuild *column, Py_ssize_t i, Py_ssize_t n, PyObject *value)
{
    if (value == Py_None) {
        column->nulls++;
    }
    else {
        if (column->kind == COL_NONE && start_column(column, kind_of(value), n) < 0) {
            return -1;
        }
        if (column->kind == COL_MIXED) {
            return 0;
        }
        switch (column->kind) {
        case COL_INT: {
            int overflow;
            long long number = PyLong_CheckExact(value)
                                   ? PyLong_AsLongLongAndOverflow(value, &overflow)
                                   : (overflow = 1, 0);
            if (overflow) {
                column->kind = COL_MIXED;
                return 0;
            }
            int64_t stored = (int64_t)number;
            memcpy(column->out + i * 8, &stored, 8);
            break;
        }
        case COL_FLOAT:
            if (!PyFloat_CheckExact(value)) {
                column->kind = COL_MIXED;
                return 0;
            }
            double number = PyFloat_AS_DOUBLE(value);
            memcpy(column->out + i * 8, &number, 8);
            break;
        case COL_BOOL:
            if (!PyBool_Check(value)) {
                column->kind = COL_MIXED;
                return 0;
            }
            if (value == Py_True) {
                column->out[i >> 3] |= (char)(1 << (i & 7));
            }
            break;
        default: {
            Py_ssize_t size;
            const char *text = kind_of(value) == column->kind
                                   ? utf8_of(value, column->kind, &size)
                                   : NULL;
            if (text == NULL || size > INT32_MAX - column->at) {
                column->kind = COL_MIXED;
                return 0;
            }
            if (column->at + size > column->capacity) {
                Py_ssize_t capacity = 2 * (column->at + size);
                if (_PyBytes_Resize(&column->data, capacity) < 0) {
                    return -1;
                }
                column->capacity = capacity;
                column->out = PyBytes_AS_STRING(column->data);
            }
            memcpy(column->out + column->at, text, (size_t)size);
            column->at += size;
        }
        }
        column->valid_bits[i >> 3] |= (char)(1 << (i & 7));
    }
    if (column->offset != NULL) {
        column->offset[i + 1] = (int32_t)column->at;
    }
    return 0;
}

/* The values of `row` in the order of `names`, into `values`; 0 if the row is not a
 * dict with exactly these keys in this order. */
static int
row_values(PyObject *row, PyObject *names, PyObject **values)
{
    Py_ssize_t n = PyList_GET_SIZE(names);
    if (PyTuple_CheckExact(row) && PyTuple_GET_SIZE(row) == n) { /* values in key order */
        for (Py_ssize_t j = 0; j < n; j++) {
            values[j] = PyTuple_GET_ITEM(row, j);
        }
        return 1;
    }
    if (!PyDict_CheckExact(row) || PyDict_GET_SIZE(row) != n) {
        return 0;
    }
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        PyObject *name = PyList_GET_ITEM(names, j);
        if (key != name) {
            if (!PyUnicode_CheckExact(key) || !PyUnicode_CheckExact(name) ||
                PyUnicode_Compare(key, name) != 0) {
                PyErr_Clear();
                return 0;
            }
        }
        values[j++] = value;
    }
    return 1;
}

/* Row `i` of `rows`: the row itself, or the values of the pending item
 * (time_ns, kind, values) when `items`. */
static inline PyObject *
row_at(PyObject *rows, Py_ssize_t i, int items)
{
    PyObject *row = PyList_GET_ITEM(rows, i);
    if (items) {
        return PyTuple_CheckExact(row) && PyTuple_GET_SIZE(row) == 3 ? PyTuple_GET_ITEM(row, 2)
                                                                      : NULL;
    }
    return row;
}

/* A column's result: plain_array's tuple, or the list of its values. */
static PyObject *
column_result(ColumnBuild *column, PyObject *rows, Py_ssize_t j, int items)
{
    if (column->kind == COL_NONE || column->kind == COL_MIXED) {
        Py_ssize_t n = PyList_GET_SIZE(rows);
        PyObject *list = PyList_New(n);
        for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
            PyObject *row = row_at(rows, i, items), *key, *value = NULL;
            if (PyTuple_CheckExact(row)) {
                value = PyTuple_GET_ITEM(row, j);
            }
            else {
                Py_ssize_t pos = 0, k = 0;
                while (k <= j && PyDict_Next(row, &pos, &key, &value)) {
                    k++;
                }
            }
            PyList_SET_ITEM(list, i, Py_NewRef(value));
        }
        return list;
    }
    if (column->offsets != NULL && _PyBytes_Resize(&column->data, column->at) < 0) {
        return NULL;
    }
    PyObject *validity = column->nulls ? column->validity : Py_None;
    if (column->offsets != NULL) {
        return Py_BuildValue("(inOOO)", column->kind, column->nulls, validity, column->offsets,
                             column->data);
    }
    return Py_BuildValue("(inOO)", column->kind, column->nulls, validity, column->data);
}

PyObject *
rows_to_buffers(PyObject *module, PyObject *args)
{
    PyObject *rows, *names;
    int items = 0;
    if (!PyArg_ParseTuple(args, "O!O!|p:rows_to_buffers", &PyList_Type, &rows, &PyList_Type,
                          &names, &items)) {
        return NULL;
    }
    Py_ssize_t n_rows = PyList_GET_SIZE(rows), n_names = PyList_GET_SIZE(names);
    ColumnBuild *columns = PyMem_Calloc((size_t)n_names + 1, sizeof(ColumnBuild));
    PyObject **values = PyMem_Calloc((size_t)n_names + 1, sizeof(PyObject *));
    PyObject *result = NULL, *stamps = NULL;
    char *stamp_bytes = NULL;
    if (columns == NULL || values == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (items && (stamps = new_bytes(n_rows * 8, &stamp_bytes)) == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        PyObject *row = row_at(rows, i, items);
        if (row == NULL || !row_values(row, names, values)) {
            result = Py_NewRef(Py_None); /* rows of other shapes: the Python path */
            goto done;
        }
        if (items) {
            int overflow;
            PyObject *time_ns = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 0);
            long long stamp = PyLong_AsLongLongAndOverflow(time_ns, &overflow);
            if (overflow || (stamp == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                result = Py_NewRef(Py_None);
                goto done;
            }
            int64_t stored = (int64_t)stamp;
            memcpy(stamp_bytes + i * 8, &stored, 8);
        }
        for (Py_ssize_t j = 0; j < n_names; j++) {
            if (store_value(&columns[j], i, n_rows, values[j]) < 0) {
                goto done;
            }
        }
    }
    result = PyList_New(n_names);
    for (Py_ssize_t j = 0; result != NULL && j < n_names; j++) {
        PyObject *column = column_result(&columns[j], rows, j, items);
        if (column == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, j, column);
    }
    if (items && result != NULL) {
        Py_SETREF(result, Py_BuildValue("(OO)", stamps, result));
    }
done:
    if (columns != NULL) {
        for (Py_ssize_t j = 0; j < n_names; j++) {
            Py_XDECREF(columns[j].validity);
            Py_XDECREF(columns[j].offsets);
            Py_XDECREF(columns[j].data);
        }
    }
    Py_XDECREF(stamps);
    PyMem_Free(columns);
    PyMem_Free(values);
    return result;
}

PyObject *
columns_of(PyObject *module, PyObject *args)
{
    PyObject *rows, *names;
    if (!PyArg_ParseTuple(args, "O!O!:columns_of", &PyList_Type, &rows, &PyList_Type, &names)) {
        return NULL;
    }
    Py_ssize_t n_rows = PyList_GET_SIZE(rows), n_names = PyList_GET_SIZE(names);
    PyObject *columns = PyList_New(n_names);
    if (columns == NULL) {
        return NULL;
    }
    for (Py_ssize_t j = 0; j < n_names; j++) {
        PyObject *column = PyList_New(n_rows);
        if (column == NULL) {
            Py_DECREF(columns);
            return NULL;
        }
        PyList_SET_ITEM(columns, j, column);
    }
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyDict_CheckExact(row)) {
            Py_DECREF(columns);
            return PyErr_Format(PyExc_TypeError, "row %zd is not a dict", i);
        }
        if (PyDict_GET_SIZE(row) != n_names) {
            Py_DECREF(columns);
            return PyErr_Format(PyExc_KeyError, "row %zd has %zd keys, not %zd", i,
                                PyDict_GET_SIZE(row), n_names);
        }
        /* Rows logged by one line of code hold the same key objects in the same
         * order: read them in order, looking a key up only where that fails. */
        Py_ssize_t pos = 0, j = 0;
        PyObject *key, *value;
        while (j < n_names && PyDict_Next(row, &pos, &key, &value) &&
               key == PyList_GET_ITEM(names, j)) {
            PyList_SET_ITEM(PyList_GET_ITEM(columns, j), i, Py_NewRef(value));
            j++;
        }
        for (; j < n_names; j++) {
            PyObject *name = PyList_GET_ITEM(names, j);
            value = PyDict_GetItemWithError(row, name);
            if (value == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, name);
                }
                Py_DECREF(columns);
                return NULL;
            }
            PyList_SET_ITEM(PyList_GET_ITEM(columns, j), i, Py_NewRef(value));
        }
    }
    return columns;
}

/* A list of one plain type (and None) as one column's buffers, or None. */
PyObject *
plain_array(PyObject *module, PyObject *values)
{
    if (!PyList_CheckExact(values)) {
        return PyErr_Format(PyExc_TypeError, "plain_array takes a list");
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    ColumnBuild column = {0};
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n && column.kind != COL_MIXED; i++) {
        if (store_value(&column, i, n, PyList_GET_ITEM(values, i)) < 0) {
            goto done;
        }
    }
    if (column.kind == COL_NONE || column.kind == COL_MIXED) {
        result = Py_NewRef(Py_None); /* a mix, or nothing but None: Arrow's inference decides */
    }
    else {
        result = column_result(&column, values, 0, 0);
    }
done:
    Py_XDECREF(column.validity);
    Py_XDECREF(column.offsets);
    Py_XDECREF(column.data);
    return result;
}
