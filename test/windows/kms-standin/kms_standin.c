/*
 * A stand-in for the Exchange 5.5 Key Management Server service (MSExchangeKMS), for the wine
 * test lane. It behaves as Microsoft's KB articles describe the real one:
 *
 *   kms_standin.exe <config file>          (the service's binPath; the SCM runs it)
 *
 * - It takes its alpha string from its start parameters: ServiceMain's argv[1] (argv[0] is the
 *   service name, as the SCM passes it).
 * - It checks the alpha string against the salted SHA-256 digest of the Kmsdata it serves,
 *   `<kmsdata>\kmsalpha.chk` = `sha256:<salt hex>:<digest hex>`, digest = SHA-256(salt || alpha).
 *   The clear text is never stored or logged. A wrong or missing alpha string ends the start with
 *   WIN32_EXIT_CODE 1066 (ERROR_SERVICE_SPECIFIC_ERROR) and SERVICE_EXIT_CODE 1: what KB Q151689
 *   reports as "service specific error 1". No check file or no kmsdata.edb: 1066 / 2.
 * - While it runs it holds `<kmsdata>\kmsdata.edb` open with share mode 0 (no sharing).
 * - It stops on SERVICE_CONTROL_STOP.
 *
 * The config file (ASCII, `key=value` lines, re-read at every start and stop):
 *   kmsdata=<folder>      the Kmsdata folder it serves
 *   mode=normal           or `hang-stop`: answer STOP with STOP_PENDING and stay so until the
 *                         mode is changed back; or `fail-start`: end every start with
 *                         WIN32_EXIT_CODE 1064 (ERROR_EXCEPTION_IN_SERVICE)
 *   fail_after=<seconds>  optional: report RUNNING, then, that many seconds later, log an error
 *                         event, let go of kmsdata.edb and stop by itself with WIN32_EXIT_CODE 1066
 *                         and SERVICE_EXIT_CODE 1 (a KMS that dies in the settle window)
 *   log=<file>            optional: what it did, one line per event, never the alpha string
 */
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sha256.h"

#define SERVICE_NAME L"MSExchangeKMS"
#define CHECK_FILE "kmsalpha.chk"
#define DATABASE_FILE "kmsdata.edb"
#define EXIT_ALPHA_REJECTED 1
#define EXIT_DATABASE_MISSING 2

typedef struct {
  char kmsdata[MAX_PATH];
  char mode[32];
  char log[MAX_PATH];
  DWORD fail_after_ms;
} config_t;

static wchar_t g_config_path[MAX_PATH];
static SERVICE_STATUS_HANDLE g_status_handle;
static SERVICE_STATUS g_status;
static HANDLE g_stop_event;
static config_t g_config;

static void trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = '\0';
}

static void read_config(config_t *config) {
  memset(config, 0, sizeof *config);
  strcpy(config->mode, "normal");
  FILE *f = _wfopen(g_config_path, L"r");
  if (f == NULL) return;
  char line[MAX_PATH + 32];
  while (fgets(line, sizeof line, f) != NULL) {
    trim(line);
    char *eq = strchr(line, '=');
    if (eq == NULL) continue;
    *eq = '\0';
    const char *value = eq + 1;
    if (strcmp(line, "kmsdata") == 0) snprintf(config->kmsdata, sizeof config->kmsdata, "%s", value);
    else if (strcmp(line, "mode") == 0) snprintf(config->mode, sizeof config->mode, "%s", value);
    else if (strcmp(line, "log") == 0) snprintf(config->log, sizeof config->log, "%s", value);
    else if (strcmp(line, "fail_after") == 0) config->fail_after_ms = (DWORD)strtoul(value, NULL, 10) * 1000;
  }
  fclose(f);
}

static void log_line(const char *format, ...) {
  if (g_config.log[0] == '\0') return;
  FILE *f = fopen(g_config.log, "a");
  if (f == NULL) return;
  SYSTEMTIME t;
  GetSystemTime(&t);
  fprintf(f, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ [%lu] ", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
          t.wMilliseconds, GetCurrentProcessId());
  va_list args;
  va_start(args, format);
  vfprintf(f, format, args);
  va_end(args);
  fputc('\n', f);
  fclose(f);
}

static void report(DWORD state, DWORD win32_exit, DWORD specific_exit, DWORD wait_hint) {
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
  g_status.dwWin32ExitCode = win32_exit;
  g_status.dwServiceSpecificExitCode = specific_exit;
  g_status.dwWaitHint = wait_hint;
  g_status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : g_status.dwCheckPoint + 1;
  SetServiceStatus(g_status_handle, &g_status);
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse `count` bytes of hex; 0 on success. */
static int parse_hex(const char *hex, uint8_t *out, size_t count) {
  for (size_t i = 0; i < count; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* 1: the alpha string matches the check file; 0: it does not; -1: no readable check file. */
static int alpha_matches(const char *kmsdata, const wchar_t *alpha) {
  char path[MAX_PATH];
  snprintf(path, sizeof path, "%s\\%s", kmsdata, CHECK_FILE);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  char line[256] = {0};
  char *got = fgets(line, sizeof line, f);
  fclose(f);
  if (got == NULL) return -1;
  trim(line);
  /* sha256:<32 hex>:<64 hex> */
  if (strlen(line) != 7 + 32 + 1 + 64 || strncmp(line, "sha256:", 7) != 0 || line[39] != ':') return -1;
  uint8_t salt[16], expected[32];
  if (parse_hex(line + 7, salt, sizeof salt) != 0 || parse_hex(line + 40, expected, sizeof expected) != 0) return -1;
  if (alpha == NULL || alpha[0] == L'\0') return 0;

  char utf8[256];
  int n = WideCharToMultiByte(CP_UTF8, 0, alpha, -1, utf8, sizeof utf8, NULL, NULL);
  if (n <= 1) return 0;
  sha256_ctx ctx;
  uint8_t actual[32];
  sha256_init(&ctx);
  sha256_update(&ctx, salt, sizeof salt);
  sha256_update(&ctx, utf8, (size_t)(n - 1));
  sha256_final(&ctx, actual);
  SecureZeroMemory(utf8, sizeof utf8);
  uint8_t diff = 0;
  for (int i = 0; i < 32; i++) diff |= (uint8_t)(actual[i] ^ expected[i]);
  return diff == 0 ? 1 : 0;
}

static DWORD WINAPI control_handler(DWORD control, DWORD event_type, LPVOID event_data, LPVOID context) {
  (void)event_type; (void)event_data; (void)context;
  switch (control) {
    case SERVICE_CONTROL_STOP:
      report(SERVICE_STOP_PENDING, NO_ERROR, 0, 3000);
      SetEvent(g_stop_event);
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void stop_with(DWORD win32_exit, DWORD specific_exit) {
  report(SERVICE_STOPPED, win32_exit, specific_exit, 0);
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  g_status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, control_handler, NULL);
  if (g_status_handle == NULL) return;
  g_stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  report(SERVICE_START_PENDING, NO_ERROR, 0, 3000);
  read_config(&g_config);
  log_line("starting (%lu start parameters besides the service name, mode %s)", argc > 0 ? argc - 1 : 0, g_config.mode);

  if (strcmp(g_config.mode, "fail-start") == 0) {
    log_line("told to fail to start: stopping with 1064");
    stop_with(ERROR_EXCEPTION_IN_SERVICE, 0);
    return;
  }
  const wchar_t *alpha = argc >= 2 ? argv[1] : NULL;
  int match = alpha_matches(g_config.kmsdata, alpha);
  if (match < 0) {
    log_line("no readable %s in %s: stopping with 1066/%d", CHECK_FILE, g_config.kmsdata, EXIT_DATABASE_MISSING);
    stop_with(ERROR_SERVICE_SPECIFIC_ERROR, EXIT_DATABASE_MISSING);
    return;
  }
  if (match == 0) {
    log_line("%s alpha string: stopping with 1066/%d", alpha == NULL ? "no" : "wrong", EXIT_ALPHA_REJECTED);
    const wchar_t *text[] = { L"The Exchange KM service failed to start: check the KM server password in the startup parameters." };
    HANDLE source = RegisterEventSourceW(NULL, SERVICE_NAME);
    if (source != NULL) {
      ReportEventW(source, EVENTLOG_ERROR_TYPE, 0, 1, NULL, 1, 0, text, NULL);
      DeregisterEventSource(source);
    }
    stop_with(ERROR_SERVICE_SPECIFIC_ERROR, EXIT_ALPHA_REJECTED);
    return;
  }

  char db_path[MAX_PATH];
  snprintf(db_path, sizeof db_path, "%s\\%s", g_config.kmsdata, DATABASE_FILE);
  HANDLE db = CreateFileA(db_path, GENERIC_READ | GENERIC_WRITE, 0 /* no sharing */, NULL, OPEN_EXISTING,
                          FILE_ATTRIBUTE_NORMAL, NULL);
  if (db == INVALID_HANDLE_VALUE) {
    log_line("cannot open %s (error %lu): stopping with 1066/%d", db_path, GetLastError(), EXIT_DATABASE_MISSING);
    stop_with(ERROR_SERVICE_SPECIFIC_ERROR, EXIT_DATABASE_MISSING);
    return;
  }
  report(SERVICE_RUNNING, NO_ERROR, 0, 0);
  log_line("alpha string verified; %s open without sharing; running", DATABASE_FILE);

  if (g_config.fail_after_ms > 0 && WaitForSingleObject(g_stop_event, g_config.fail_after_ms) == WAIT_TIMEOUT) {
    log_line("told to fail after %lu ms: stopping with 1066/%d", g_config.fail_after_ms, EXIT_ALPHA_REJECTED);
    const wchar_t *text[] = { L"The Exchange KM service stopped: the KM database could not be used." };
    HANDLE source = RegisterEventSourceW(NULL, SERVICE_NAME);
    if (source != NULL) {
      ReportEventW(source, EVENTLOG_ERROR_TYPE, 0, 2, NULL, 1, 0, text, NULL);
      DeregisterEventSource(source);
    }
    CloseHandle(db);
    stop_with(ERROR_SERVICE_SPECIFIC_ERROR, EXIT_ALPHA_REJECTED);
    return;
  }
  WaitForSingleObject(g_stop_event, INFINITE);
  read_config(&g_config);
  if (strcmp(g_config.mode, "hang-stop") == 0) log_line("stop asked: hanging in STOP_PENDING until the mode changes");
  while (strcmp(g_config.mode, "hang-stop") == 0) {
    Sleep(200);
    report(SERVICE_STOP_PENDING, NO_ERROR, 0, 3000);
    read_config(&g_config);
  }
  CloseHandle(db);
  log_line("stopped");
  stop_with(NO_ERROR, 0);
}

int wmain(int argc, wchar_t **argv) {
  if (argc < 2) {
    fwprintf(stderr, L"usage: kms_standin.exe <config file> (run by the service control manager)\n");
    return 2;
  }
  wcsncpy(g_config_path, argv[1], MAX_PATH - 1);
  SERVICE_TABLE_ENTRYW table[] = { { (LPWSTR)SERVICE_NAME, service_main }, { NULL, NULL } };
  if (!StartServiceCtrlDispatcherW(table)) {
    fwprintf(stderr, L"StartServiceCtrlDispatcherW failed: %lu\n", GetLastError());
    return 1;
  }
  return 0;
}
