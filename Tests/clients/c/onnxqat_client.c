/*
 * A C client of libonnxqat, built against an installed copy:
 *   cc -std=c99 onnxqat_client.c $(pkg-config --cflags --libs onnxqat) -o onnxqat_client
 *   ./onnxqat_client MODEL CALIB WORKDIR
 * Runs fold, insert and lower (path forms) and fold through the buffer form on MODEL, checks
 * the statuses and what the reports say, writes each report to WORKDIR/<verb>.json for schema
 * validation, then checks the error path (a corrupt model, bad options, a cancelled call) and
 * that the process carries on with another call. Prints "client ok" and exits 0 when all hold.
 */
#include <onnxqat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int condition, const char *what, const char *report) {
  if (!condition) {
    fprintf(stderr, "FAILED: %s\n%s\n", what, report ? report : "(no report)");
    failures++;
  }
}

/* Writes text to WORKDIR/name. */
static void save(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *file = fopen(path, "wb");
  if (!file) {
    check(0, "cannot write a report file", path);
    return;
  }
  fputs(text ? text : "", file);
  fclose(file);
}

/* Reads a whole file; *size gets its length. */
static void *load(const char *path, size_t *size) {
  FILE *file = fopen(path, "rb");
  if (!file) return NULL;
  fseek(file, 0, SEEK_END);
  long length = ftell(file);
  fseek(file, 0, SEEK_SET);
  void *bytes = malloc(length > 0 ? (size_t)length : 1);
  *size = fread(bytes, 1, (size_t)length, file);
  fclose(file);
  return bytes;
}

struct progress_log {
  int events;
  int calibrate_events;
  int cancel_at; /* cancel at this event (0: never) */
};

static int on_progress(const char *stage, int64_t done, int64_t total, void *user) {
  struct progress_log *log = user;
  (void)done;
  (void)total;
  log->events++;
  if (strcmp(stage, "calibrate") == 0) log->calibrate_events++;
  return log->cancel_at != 0 && log->events >= log->cancel_at;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL CALIB WORKDIR\n", argv[0]);
    return 2;
  }
  const char *model = argv[1], *calib = argv[2], *dir = argv[3];
  char folded[4096], qdq[4096], integer[4096], corrupt[4096], options[4096];
  snprintf(folded, sizeof folded, "%s/folded.onnx", dir);
  snprintf(qdq, sizeof qdq, "%s/qdq.onnx", dir);
  snprintf(integer, sizeof integer, "%s/int.onnx", dir);
  snprintf(corrupt, sizeof corrupt, "%s/corrupt.onnx", dir);
  snprintf(options, sizeof options, "{\"calib\": \"%s\", \"keep-io-float\": false}", calib);

  const char *version = onnxqat_version();
  check(version != NULL && strchr(version, '.') != NULL, "onnxqat_version is MAJOR.MINOR.PATCH", version);

  char *report = NULL;
  int status = onnxqat_fold(model, folded, NULL, NULL, NULL, &report);
  check(status == ONNXQAT_OK, "fold succeeds", report);
  check(report && strstr(report, "\"passes\"") && strstr(report, "\"after\""), "fold reports its passes", report);
  save(dir, "fold.json", report);
  onnxqat_free(report);

  struct progress_log log = {0, 0, 0};
  status = onnxqat_insert(folded, qdq, options, on_progress, &log, &report);
  check(status == ONNXQAT_OK, "insert succeeds", report);
  check(report && strstr(report, "\"verb\" : \"insert\""), "the insert report names its verb", report);
  check(report && strstr(report, "\"tensors\""), "insert reports its tensors", report);
  check(log.calibrate_events > 0, "insert reports calibration progress", report);
  save(dir, "insert.json", report);
  onnxqat_free(report);

  status = onnxqat_lower(qdq, integer, "{\"target\": \"ort\"}", NULL, NULL, &report);
  check(status == ONNXQAT_OK, "lower succeeds", report);
  check(report && strstr(report, "QLinearConv"), "lower turns Conv into QLinearConv", report);
  save(dir, "lower.json", report);
  onnxqat_free(report);

  size_t input_size = 0, output_size = 0;
  void *input = load(model, &input_size), *output = NULL;
  status = onnxqat_fold_buffer(input, input_size, &output, &output_size, "{}", NULL, NULL, &report);
  check(status == ONNXQAT_OK && output != NULL && output_size > 0, "fold_buffer returns a model", report);
  onnxqat_free(report);
  onnxqat_free(output);
  free(input);

  /* The error path: a corrupt model is bad input, named in the JSON error. */
  FILE *file = fopen(corrupt, "wb");
  if (file) {
    fputs("this is not an ONNX model", file);
    fclose(file);
  }
  status = onnxqat_fold(corrupt, folded, NULL, NULL, NULL, &report);
  check(status == ONNXQAT_BAD_INPUT, "a corrupt model is bad input", report);
  check(report && strstr(report, "\"error\"") && strstr(report, "corrupt.onnx"), "the error names the file", report);
  save(dir, "error.json", report);
  onnxqat_free(report);

  status = onnxqat_lower(qdq, integer, "{\"target\": \"tpu\"}", NULL, NULL, &report);
  check(status == ONNXQAT_BAD_INPUT, "a bad option value is bad input", report);
  check(report && strstr(report, "'target' must be ort or onnx"), "the error names the option", report);
  onnxqat_free(report);

  status = onnxqat_fold(NULL, folded, NULL, NULL, NULL, &report);
  check(status == ONNXQAT_BAD_INPUT && report && strstr(report, "input_path is NULL"), "NULL is refused", report);
  onnxqat_free(report);

  struct progress_log cancelling = {0, 0, 3};
  status = onnxqat_insert(folded, qdq, options, on_progress, &cancelling, &report);
  check(status == ONNXQAT_CANCELLED, "a progress callback returning non-zero cancels", report);
  check(report && strstr(report, "\"cancelled\""), "the cancelled call says so", report);
  save(dir, "cancelled.json", report);
  onnxqat_free(report);

  /* The process carries on: another call after the errors. */
  status = onnxqat_lower(qdq, integer, NULL, NULL, NULL, &report);
  check(status == ONNXQAT_OK, "lower succeeds after the errors", report);
  onnxqat_free(report);

  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("client ok (libonnxqat %s)\n", version);
  return 0;
}
