/*
 * onnxqat.h: the C ABI of onnx-qat (libonnxqat), C99.
 *
 * Every verb of the command line is a call here, in two forms: one reading and writing files
 * (paths), one reading and writing byte buffers. Options are a JSON object whose keys are the
 * command-line flag names without the dashes in front (the recipe's names), for example
 *   {"calib": "synthetic:4", "method": "entropy", "exclude": ["Softmax"], "keep-io-float": true}
 * NULL or "" means no options. Unknown keys are an error.
 *
 * Each call returns a status (onnxqat_status) and, through report_json (which may be NULL), a
 * JSON document the caller frees with onnxqat_free: the verb's report on success (the same JSON
 * as `onnx-qat VERB --json`, Schemas/<verb>*.schema.json), {"error": {...}} on failure
 * (Schemas/error.schema.json). Output buffers are allocated by the library and freed with
 * onnxqat_free too.
 *
 * The calls never exit and never keep global state: independent models may be processed on
 * several threads at once. A progress callback, when given, is called on the calling thread
 * with the stage ("load", "fold", "calibrate", "insert", "lower", "verify", "save"), the units
 * done and the total (-1 when unknown); returning non-zero cancels the call, which then returns
 * ONNXQAT_CANCELLED.
 */
#ifndef ONNXQAT_H
#define ONNXQAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes; 0, 1 and 2 are the command line's exit codes. */
typedef enum onnxqat_status {
  ONNXQAT_OK = 0,        /* success: report_json holds the verb's report */
  ONNXQAT_FAILURE = 1,   /* the environment failed (a file could not be written, ...) */
  ONNXQAT_BAD_INPUT = 2, /* bad options, NULL pointers, an unreadable or invalid model */
  ONNXQAT_CANCELLED = 3  /* the progress callback returned non-zero */
} onnxqat_status;

/* Progress: stage name, units done, total units (-1 when unknown), the caller's pointer.
   Return 0 to go on, non-zero to cancel. */
typedef int (*onnxqat_progress_fn)(const char *stage, int64_t done, int64_t total, void *user);

/* The library version, "MAJOR.MINOR.PATCH"; static storage, do not free. */
const char *onnxqat_version(void);

/* Frees a report or an output buffer returned by this library. NULL is ignored. */
void onnxqat_free(void *pointer);

/* fold: constant and batch-norm folding, dead nodes, duplicate initializers. No options yet
   (pass NULL or "{}"). */
int onnxqat_fold(const char *input_path, const char *output_path, const char *options_json,
                 onnxqat_progress_fn progress, void *user, char **report_json);
int onnxqat_fold_buffer(const void *input, size_t input_size, void **output, size_t *output_size,
                        const char *options_json, onnxqat_progress_fn progress, void *user,
                        char **report_json);

/* insert: fold, calibrate, write Q/DQ pairs. Options: calib (required: a folder of samples or
   "synthetic:N"), calib-samples, method, percentile, moving-average, preset, recipe (a file),
   activations, weights, block-size, per-tensor, reduce-range, weights-form, exclude,
   keep-io-float. */
int onnxqat_insert(const char *input_path, const char *output_path, const char *options_json,
                   onnxqat_progress_fn progress, void *user, char **report_json);
int onnxqat_insert_buffer(const void *input, size_t input_size, void **output, size_t *output_size,
                          const char *options_json, onnxqat_progress_fn progress, void *user,
                          char **report_json);

/* lower: fake-quant graph to integer ops. Options: target, requant, strict, int-io. */
int onnxqat_lower(const char *input_path, const char *output_path, const char *options_json,
                  onnxqat_progress_fn progress, void *user, char **report_json);
int onnxqat_lower_buffer(const void *input, size_t input_size, void **output, size_t *output_size,
                         const char *options_json, onnxqat_progress_fn progress, void *user,
                         char **report_json);

/* convert: re-serialize. Options: external-data (true or a threshold in bytes; path form
   only), inline-external-data. */
int onnxqat_convert(const char *input_path, const char *output_path, const char *options_json,
                    onnxqat_progress_fn progress, void *user, char **report_json);
int onnxqat_convert_buffer(const void *input, size_t input_size, void **output, size_t *output_size,
                           const char *options_json, onnxqat_progress_fn progress, void *user,
                           char **report_json);

/* verify: the fake-quant and the integer model (and optionally the float model: NULL for none)
   on the same samples. Options: data or calib (required), samples, requant. */
int onnxqat_verify(const char *qdq_path, const char *int_path, const char *float_path,
                   const char *options_json, onnxqat_progress_fn progress, void *user,
                   char **report_json);
int onnxqat_verify_buffer(const void *qdq, size_t qdq_size, const void *integer, size_t int_size,
                          const void *float_model, size_t float_size, const char *options_json,
                          onnxqat_progress_fn progress, void *user, char **report_json);

#ifdef __cplusplus
}
#endif

#endif /* ONNXQAT_H */
