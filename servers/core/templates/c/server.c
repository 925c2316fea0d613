/* @NAME@ — TODO: one line on the sharing discipline.
 *
 * Rule: TODO, the one rule every request follows. Until you change it, this is
 * global-lock's: one pthread mutex around the whole store, a thread per connection.
 *
 * The whole contract (CONTRACT.md) in one file: flags, ready line, HTTP/1.1 with
 * keep-alive, the routes, JSON read exactly as strictly as Python's json.loads, the
 * work knobs, the live heap, exit 0 on SIGINT/SIGTERM. A discipline is the four
 * store functions below (store_get .. store_totals) and what they lock. Build:
 * `make` in servers/@NAME@ (the strategy's build step); `sharebench verify @NAME@`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)
#define MAX_LINE 8192
#define MAX_HEADERS 100
#define MAX_HEAD (MAX_LINE + 2 + (MAX_HEADERS + 1) * (MAX_LINE + 2))
#define FIRST_REQUEST_S 10
#define IDLE_S 30
#define DEFAULT_WORKERS 1024
#define MAX_WORKERS (1024 * 64)
#define MAX_SILENT 4096
#define MAX_DEPTH 512
#define CHURN_BATCH 64
#define CHURN_PART 64
#define ENTRY_WORDS 30

/* ---- options ------------------------------------------------------------------- */

static struct {
    const char *name, *host;
    int port, workers;
    long keys, live_objects;
    double cpu_us, hold_us, io_ms, churn;
} opt = {"@NAME@", "127.0.0.1", 8000, DEFAULT_WORKERS, 1024, 0, 0, 0, 0, 1.0 / 16};

static void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "@NAME@: error: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static double number(const char *flag, const char *text, double low, double high) {
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end || !(value >= low && value <= high))
        die(2, "%s must be a number in %g..%g, got '%s'", flag, low, high, text);
    return value;
}

static void parse_flags(int argc, char **argv) {
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) die(2, "%s needs a value", flag);
        if (!strcmp(flag, "--name")) opt.name = value;
        else if (!strcmp(flag, "--host")) opt.host = value;
        else if (!strcmp(flag, "--port")) opt.port = (int)number(flag, value, 0, 65535);
        else if (!strcmp(flag, "--workers")) opt.workers = (int)number(flag, value, 1, MAX_WORKERS);
        else if (!strcmp(flag, "--keys")) opt.keys = (long)number(flag, value, 1, 10000000);
        else if (!strcmp(flag, "--cpu-us")) opt.cpu_us = number(flag, value, 0, 1000000);
        else if (!strcmp(flag, "--hold-us")) opt.hold_us = number(flag, value, 0, 1000000);
        else if (!strcmp(flag, "--io-ms")) opt.io_ms = number(flag, value, 0, 1000000);
        else if (!strcmp(flag, "--live-objects"))
            opt.live_objects = (long)number(flag, value, 0, 10000000);
        else if (!strcmp(flag, "--churn")) opt.churn = number(flag, value, 0, 1);
        else die(2, "unknown flag '%s'; valid: --name --host --port --workers --keys --cpu-us "
                    "--hold-us --io-ms --live-objects --churn", flag);
    }
}

/* ---- the work knobs: the thread's own CPU clock, and a wait ------------------------ */

static double thread_cpu_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec * 1e6 + now.tv_nsec / 1e3;
}

static void spin_us(double us) {
    if (us <= 0) return;
    double until = thread_cpu_us() + us;
    volatile uint64_t sink = 0;
    while (thread_cpu_us() < until)
        for (int i = 0; i < 64; i++) sink += (uint64_t)i;
}

static void wait_ms(double ms) {
    if (ms <= 0) return;
    struct timespec span = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&span, &span) && errno == EINTR) {}
}

/* ---- the live heap: --live-objects N held, --churn S of requests replace a page ------ */

typedef struct { uint64_t key, version; uint64_t *refs; } Entry;
static Entry **heap;
static long heap_entries;
static atomic_uint_fast64_t draws = 0x5eed, versions = 1;

static uint64_t splitmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double draw(void) {
    return (splitmix64(atomic_fetch_add(&draws, 0x9e3779b97f4a7c15ULL)) >> 11) / 9007199254740992.0;
}

static Entry *new_entry(uint64_t key, uint64_t version) {
    Entry *entry = malloc(sizeof *entry);
    uint64_t *refs = malloc(ENTRY_WORDS * sizeof *refs);
    if (!entry || !refs) die(1, "out of memory building the live heap");
    for (int i = 0; i < ENTRY_WORDS; i++) refs[i] = key;
    *entry = (Entry){key, version, refs};
    return entry;
}

static void heap_build(void) {
    heap_entries = opt.live_objects / 2;  /* an entry and its array: two allocations */
    if (!heap_entries) return;
    heap = malloc(heap_entries * sizeof *heap);
    if (!heap) die(1, "out of memory building the live heap");
    for (long i = 0; i < heap_entries; i++) heap[i] = new_entry(i, 0);
}

/* One state request's use of the heap; called with the store's lock held. */
static void heap_touch(void) {
    if (!heap_entries) return;
    volatile uint64_t seen = heap[(long)(draw() * heap_entries)]->version;
    (void)seen;
    if (draw() >= opt.churn) return;
    long part = heap_entries / CHURN_PART > 0 ? heap_entries / CHURN_PART : 1;
    long start = (long)(draw() * part);
    uint64_t version = atomic_fetch_add(&versions, 1);
    for (long i = start; i < start + CHURN_BATCH && i < heap_entries; i++) {
        free(heap[i]->refs);
        free(heap[i]);
        heap[i] = new_entry(i, version);
    }
}

/* ---- the store: the discipline. Replace these four and what they lock. -------------- */

typedef struct { int64_t value, applied, sent; } Slot;  /* sent: net amount transferred out */
typedef struct { int64_t sum, incr_applied, transfers; } Totals;

static Slot *slots;
static int64_t transfers_done;
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t store_get(long key) {
    pthread_mutex_lock(&store_lock);
    heap_touch();
    int64_t value = slots[key].value;
    pthread_mutex_unlock(&store_lock);
    return value;
}

static int64_t store_incr(long key, int64_t by) {
    pthread_mutex_lock(&store_lock);
    heap_touch();
    int64_t value = slots[key].value;   /* read, hold, write: the race a lock prevents */
    spin_us(opt.hold_us);
    slots[key].value = value + by;
    slots[key].applied += by;
    pthread_mutex_unlock(&store_lock);
    return value + by;
}

static void store_transfer(long src, long dst, int64_t amount, int64_t *from, int64_t *to) {
    pthread_mutex_lock(&store_lock);
    heap_touch();
    int64_t a = slots[src].value, b = slots[dst].value;
    spin_us(opt.hold_us);
    slots[src].value = *from = a - amount;
    slots[dst].value = *to = b + amount;
    slots[src].sent += amount;
    slots[dst].sent -= amount;
    transfers_done++;
    pthread_mutex_unlock(&store_lock);
}

static Totals store_totals(void) {  /* /stats: a consistent snapshot */
    Totals totals = {0, 0, 0};
    pthread_mutex_lock(&store_lock);
    for (long key = 0; key < opt.keys; key++) {
        totals.sum += slots[key].value;
        totals.incr_applied += slots[key].applied;
    }
    totals.transfers = transfers_done;
    pthread_mutex_unlock(&store_lock);
    return totals;
}

/* ---- JSON, as strictly as Python's json.loads: an object whose integer fields we read --- */

typedef struct { const char *p, *end; int depth; } Json;
enum { FIELD_MISSING, FIELD_INT, FIELD_BIG, FIELD_OTHER };
typedef struct { const char *name; int kind; int64_t value; } Field;

static void skip_ws(Json *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 32);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex4(Json *j, unsigned *out) {
    if (j->end - j->p < 4) return 0;
    *out = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_digit(*j->p++);
        if (digit < 0) return 0;
        *out = *out * 16 + (unsigned)digit;
    }
    return 1;
}

static void put_utf8(char *out, size_t *n, size_t cap, unsigned cp) {
    char buf[4];
    size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (len == 1) buf[0] = (char)cp;
    else if (len == 2) { buf[0] = (char)(0xc0 | cp >> 6); buf[1] = (char)(0x80 | (cp & 0x3f)); }
    else if (len == 3) {
        buf[0] = (char)(0xe0 | cp >> 12); buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (cp & 0x3f));
    } else {
        buf[0] = (char)(0xf0 | cp >> 18); buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); buf[3] = (char)(0x80 | (cp & 0x3f));
    }
    for (size_t i = 0; i < len; i++, (*n)++)
        if (*n < cap) out[*n] = buf[i];
}

/* A string; its first `cap` decoded bytes in out, its decoded length in *n. */
static int string(Json *j, char *out, size_t cap, size_t *n) {
    *n = 0;
    if (j->p >= j->end || *j->p != '"') return 0;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') return 1;
        if (c < 0x20) return 0;  /* a raw control character */
        if (c != '\\') { if (*n < cap) out[*n] = (char)c; (*n)++; continue; }
        if (j->p >= j->end) return 0;
        char e = *j->p++;
        unsigned cp;
        switch (e) {
        case '"': case '\\': case '/': cp = (unsigned char)e; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (!hex4(j, &cp)) return 0;
            if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                Json look = *j;
                unsigned low;
                look.p += 2;
                if (hex4(&look, &low) && low >= 0xdc00 && low < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    j->p = look.p;
                }
            }
            break;
        default: return 0;
        }
        put_utf8(out, n, cap, cp);
    }
    return 0;
}

/* A number: FIELD_INT (value set), FIELD_BIG (an integer beyond int64) or FIELD_OTHER. */
static int number_value(Json *j, int64_t *value) {
    const char *start = j->p;
    int negative = j->p < j->end && *j->p == '-', big = 0;
    if (negative) j->p++;
    if (j->end - j->p >= 8 && !strncmp(j->p, "Infinity", 8)) { j->p += 8; return FIELD_OTHER; }
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') { j->p = start; return -1; }
    uint64_t magnitude = 0;
    if (*j->p == '0') j->p++;
    else
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            if (magnitude > (UINT64_MAX - 9) / 10) big = 1;
            magnitude = magnitude * 10 + (uint64_t)(*j->p++ - '0');
        }
    int integer = 1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
        integer = 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
        integer = 0;
    }
    if (!integer) return FIELD_OTHER;
    if (big || magnitude > (uint64_t)INT64_MAX) return FIELD_BIG;
    *value = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return FIELD_INT;
}

static int value(Json *j, int *kind, int64_t *number);

static int literal(Json *j, const char *word) {
    size_t len = strlen(word);
    if ((size_t)(j->end - j->p) < len || strncmp(j->p, word, len)) return 0;
    j->p += len;
    return 1;
}

/* An object; when fields is given (the top level), the last value of each named field. */
static int object(Json *j, Field *fields, int count) {
    if (++j->depth > MAX_DEPTH) return 0;
    j->p++;  /* '{' */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; j->depth--; return 1; }
    for (;;) {
        char key[16];
        size_t n;
        int kind;
        int64_t num = 0;
        skip_ws(j);
        if (!string(j, key, sizeof key, &n)) return 0;
        skip_ws(j);
        if (j->p >= j->end || *j->p++ != ':') return 0;
        skip_ws(j);
        if (!value(j, &kind, &num)) return 0;
        for (int i = 0; fields && i < count; i++)
            if (n == strlen(fields[i].name) && !memcmp(key, fields[i].name, n)) {
                fields[i].kind = kind;
                fields[i].value = num;
            }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == '}') { j->p++; j->depth--; return 1; }
        return 0;
    }
}

static int value(Json *j, int *kind, int64_t *number) {
    *kind = FIELD_OTHER;
    if (j->p >= j->end) return 0;
    char c = *j->p;
    if (c == '{') return object(j, NULL, 0);
    if (c == '[') {
        if (++j->depth > MAX_DEPTH) return 0;
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ']') { j->p++; j->depth--; return 1; }
        for (;;) {
            int inner;
            int64_t ignored;
            skip_ws(j);
            if (!value(j, &inner, &ignored)) return 0;
            skip_ws(j);
            if (j->p < j->end && *j->p == ',') { j->p++; continue; }
            if (j->p < j->end && *j->p == ']') { j->p++; j->depth--; return 1; }
            return 0;
        }
    }
    if (c == '"') { char skip[1]; size_t n; return string(j, skip, 0, &n); }
    if (literal(j, "true") || literal(j, "false") || literal(j, "null") || literal(j, "NaN"))
        return 1;
    int found = number_value(j, number);
    if (found < 0) return 0;
    *kind = found;
    return 1;
}

/* Strict UTF-8 as Python decodes it: no overlong forms, no surrogates, at most U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4)) return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return 0;
        if (len == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))) return 0;
        if (len == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))) return 0;
        i += len;
    }
    return 1;
}

/* The body as a JSON object, its named fields read; 0 if it is not one. */
static int json_fields(const char *body, size_t n, Field *fields, int count) {
    if (!utf8_valid((const unsigned char *)body, n)) return 0;
    Json j = {body, body + n, 0};
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{' || !object(&j, fields, count)) return 0;
    skip_ws(&j);
    return j.p == j.end;
}

/* ---- HTTP/1.1 ------------------------------------------------------------------- */

typedef struct {
    int fd, status, close, requests;
    char *buf;
    size_t len, cap;
} Conn;

static atomic_long requests_answered;
static sem_t slots_free;  /* the connection cap: --workers connections served at once */
static atomic_int silent;  /* connections that have not sent their first byte yet */

static void reply(Conn *c, int status, const char *allow, const char *fmt, ...) {
    static const char *reasons[] = {[200] = "OK", [400] = "Bad Request", [404] = "Not Found",
                                    [405] = "Method Not Allowed", [413] = "Payload Too Large",
                                    [414] = "URI Too Long", [431] = "Request Header Fields Too Large"};
    char body[1024], head[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof body) n = (int)sizeof body - 1;
    atomic_fetch_add(&requests_answered, 1);
    int h = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n%s%s%sConnection: %s\r\n\r\n", status, reasons[status],
                     n, allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "",
                     c->close ? "close" : "keep-alive");
    struct iovec parts[2] = {{head, (size_t)h}, {body, (size_t)n}};
    struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 2};
    if (sendmsg(c->fd, &msg, MSG_NOSIGNAL) < 0) c->close = 1;
}

static void fail(Conn *c, int status, const char *allow, const char *message) {
    reply(c, status, allow, "{\"error\":\"%s\"}", message);
}

/* A key in the path: decimal digits, at most 12, below --keys; -1 otherwise. */
static long path_key(const char *text, size_t n) {
    if (!n || n > 12) return -1;
    long key = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        key = key * 10 + (text[i] - '0');
    }
    return key < opt.keys ? key : -1;
}

static void stats(Conn *c) {
    Totals t = store_totals();
    long answered = atomic_load(&requests_answered) + 1;  /* this one included (reply counts it) */
    reply(c, 200, NULL, "{\"sum\":%lld,\"incr_applied\":%lld,\"transfers\":%lld,\"requests\":%ld}",
          (long long)t.sum, (long long)t.incr_applied, (long long)t.transfers, answered);
}

static void health(Conn *c) {
    if (heap_entries)
        reply(c, 200, NULL, "{\"status\":\"ok\",\"strategy\":\"%s\",\"workers\":%d,\"pid\":%d,"
              "\"language\":\"c\",\"heap\":{\"live_objects\":%ld,\"heap_objects\":%ld,"
              "\"tracked_objects\":null,\"churn\":%g}}", opt.name, opt.workers, (int)getpid(),
              opt.live_objects, 2 * heap_entries + 1, opt.churn);
    else
        reply(c, 200, NULL, "{\"status\":\"ok\",\"strategy\":\"%s\",\"workers\":%d,\"pid\":%d,"
              "\"language\":\"c\"}", opt.name, opt.workers, (int)getpid());
}

static void route(Conn *c, const char *method, const char *target, const char *body, size_t n) {
    size_t len = strcspn(target, "?");
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (len > 4 && !strncmp(target, "/kv/", 4)) {
        const char *key_text = target + 4, *slash = memchr(key_text, '/', len - 4);
        size_t key_len = slash ? (size_t)(slash - key_text) : len - 4;
        if (!slash) {
            if (!get) return fail(c, 405, "GET", "method not allowed; use GET");
            long key = path_key(key_text, key_len);
            if (key < 0) return fail(c, 404, NULL, "no such key");
            if (opt.cpu_us) spin_us(opt.cpu_us);
            wait_ms(opt.io_ms);
            return reply(c, 200, NULL, "{\"key\":%ld,\"value\":%lld}", key, (long long)store_get(key));
        }
        if ((size_t)(target + len - slash) == 5 && !strncmp(slash, "/incr", 5)) {
            long key = path_key(key_text, key_len);
            if (key < 0) return fail(c, 404, NULL, "no such key");
            if (!post) return fail(c, 405, "POST", "method not allowed; use POST");
            Field by[] = {{"by", FIELD_MISSING, 0}};
            if (!json_fields(body, n, by, 1)) return fail(c, 400, NULL, "body is not a JSON object");
            if (by[0].kind != FIELD_INT || by[0].value < 1 || by[0].value > 1000)
                return fail(c, 400, NULL, "field 'by' must be an integer in 1..1000");
            spin_us(opt.cpu_us);
            wait_ms(opt.io_ms);
            return reply(c, 200, NULL, "{\"key\":%ld,\"value\":%lld}", key,
                         (long long)store_incr(key, by[0].value));
        }
        return fail(c, 404, NULL, "no such route");
    }
    if (len == 9 && !strncmp(target, "/transfer", 9)) {
        if (!post) return fail(c, 405, "POST", "method not allowed; use POST");
        Field f[] = {{"from", FIELD_MISSING, 0}, {"to", FIELD_MISSING, 0}, {"amount", FIELD_MISSING, 0}};
        if (!json_fields(body, n, f, 3)) return fail(c, 400, NULL, "body is not a JSON object");
        for (int i = 0; i < 2; i++) {
            if (f[i].kind != FIELD_INT && f[i].kind != FIELD_BIG)
                return fail(c, 400, NULL, "fields 'from' and 'to' must be integers");
            if (f[i].kind == FIELD_BIG || f[i].value < 0 || f[i].value >= opt.keys)
                return fail(c, 404, NULL, "key out of range");
        }
        if (f[2].kind != FIELD_INT || f[2].value < 1 || f[2].value > 1000)
            return fail(c, 400, NULL, "field 'amount' must be an integer in 1..1000");
        if (f[0].value == f[1].value) return fail(c, 400, NULL, "'from' and 'to' must differ");
        int64_t from, to;
        spin_us(opt.cpu_us);
        wait_ms(opt.io_ms);
        store_transfer(f[0].value, f[1].value, f[2].value, &from, &to);
        return reply(c, 200, NULL, "{\"from\":%lld,\"to\":%lld,\"amount\":%lld,\"from_value\":%lld,"
                     "\"to_value\":%lld}", (long long)f[0].value, (long long)f[1].value,
                     (long long)f[2].value, (long long)from, (long long)to);
    }
    if ((len == 7 && !strncmp(target, "/health", 7)) || (len == 6 && !strncmp(target, "/stats", 6))) {
        if (!get) return fail(c, 405, "GET", "method not allowed; use GET");
        return target[1] == 'h' ? health(c) : stats(c);
    }
    return fail(c, 404, NULL, "no such route");
}

/* Read more into the buffer; 0 on EOF, a timeout or an error. */
static int fill(Conn *c) {
    if (c->len == c->cap) {
        size_t cap = c->cap * 2;
        char *grown = realloc(c->buf, cap);
        if (!grown) return 0;
        c->buf = grown;
        c->cap = cap;
    }
    ssize_t got;
    do got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0); while (got < 0 && errno == EINTR);
    if (got <= 0) return 0;
    c->len += (size_t)got;
    return 1;
}

static void set_timeout(int fd, int seconds) {
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int too_long(Conn *c, int lines) {
    c->close = 1;
    fail(c, lines ? 431 : 414, NULL, lines ? "header line too long" : "request line too long");
    return 0;
}

/* One request from the buffer (reading more as needed); 0 when the connection is done. */
static int serve_one(Conn *c) {
    size_t head_end = 0, line_start = 0, request_line = 0, scanned = 0;
    int lines = 0;
    while (!head_end) {  /* the head ends at a blank line after the request line */
        char *nl = scanned < c->len ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        if (!nl) {
            scanned = c->len;
            if (c->len - line_start > MAX_LINE + 1) return too_long(c, lines);
            if (!fill(c)) return 0;
            continue;
        }
        size_t at = (size_t)(nl - c->buf);
        size_t line_len = at - line_start - (at > line_start && c->buf[at - 1] == '\r');
        if (line_len > MAX_LINE) return too_long(c, lines);
        if (!line_len && lines) head_end = at + 1;
        else if (line_len && ++lines == 1) request_line = line_start;
        if (lines > MAX_HEADERS + 1) { c->close = 1; fail(c, 431, NULL, "too many headers"); return 0; }
        line_start = scanned = at + 1;
    }
    /* the request line: METHOD SP TARGET SP HTTP/1.x (empty lines before it skipped) */
    char *p = c->buf + request_line;
    char *eol = memchr(p, '\n', c->buf + head_end - p);
    *eol = 0;
    if (eol > p && eol[-1] == '\r') eol[-1] = 0;
    char *method = p, *target = strchr(method, ' '), *version = target ? strchr(target + 1, ' ') : NULL;
    if (!target || !version || strchr(version + 1, ' ') || target == method) {
        c->close = 1;
        fail(c, 400, NULL, "malformed request line");
        return 0;
    }
    *target++ = 0;
    *version++ = 0;
    if (strcmp(version, "HTTP/1.1") && strcmp(version, "HTTP/1.0")) {
        c->close = 1;
        fail(c, 400, NULL, "unsupported HTTP version");
        return 0;
    }
    c->close = !strcmp(version, "HTTP/1.0");
    long length = -1;
    int bad = 0;
    for (char *line = eol + 1; line < c->buf + head_end;) {
        char *end = memchr(line, '\n', c->buf + head_end - line);
        *end = 0;
        if (end > line && end[-1] == '\r') end[-1] = 0;
        if (!*line) break;
        char *colon = strchr(line, ':');
        char *space = strpbrk(line, " \t");
        if (!colon || colon == line || (space && space < colon)) bad = 1;
        else {
            *colon = 0;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = 0;
            if (!strcasecmp(line, "Content-Length")) {
                char *stop;
                long value = vl && vl <= 12 && strspn(v, "0123456789") == vl ? strtol(v, &stop, 10) : -2;
                if (value < 0 || (length >= 0 && value != length)) bad = 1;
                else length = value;
            } else if (!strcasecmp(line, "Transfer-Encoding")) bad = 1;
            else if (!strcasecmp(line, "Connection")) {
                if (strcasestr(v, "close")) c->close = 1;
                else if (strcasestr(v, "keep-alive")) c->close = 0;
            }
        }
        line = end + 1;
    }
    if (bad) { c->close = 1; fail(c, 400, NULL, "malformed headers"); return 0; }
    if (length > MAX_BODY) { c->close = 1; fail(c, 413, NULL, "body over 65536 bytes"); return 0; }
    size_t body_len = length > 0 ? (size_t)length : 0;
    while (c->len < head_end + body_len)
        if (!fill(c)) { c->close = 1; fail(c, 400, NULL, "body shorter than its Content-Length"); return 0; }
    c->requests++;
    route(c, method, target, c->buf + head_end, body_len);
    memmove(c->buf, c->buf + head_end + body_len, c->len - head_end - body_len);
    c->len -= head_end + body_len;
    set_timeout(c->fd, IDLE_S);
    return !c->close;
}

/* A connection waits for its first byte outside the cap, so silent clients cannot fill
 * it; past MAX_SILENT of them the newest is closed. Then it takes one of the --workers
 * slots until it closes. */
static void *connection(void *arg) {
    Conn c = {.fd = (int)(intptr_t)arg, .cap = 16384};
    char first;
    set_timeout(c.fd, FIRST_REQUEST_S);
    int waiting = atomic_fetch_add(&silent, 1) < MAX_SILENT;
    ssize_t got = waiting ? recv(c.fd, &first, 1, MSG_PEEK) : 0;
    atomic_fetch_sub(&silent, 1);
    if (got <= 0) {
        close(c.fd);
        return NULL;
    }
    while (sem_wait(&slots_free) && errno == EINTR) {}
    c.buf = malloc(c.cap);
    while (c.buf && serve_one(&c)) {}
    free(c.buf);
    close(c.fd);
    sem_post(&slots_free);
    return NULL;
}

/* ---- start-up ------------------------------------------------------------------- */

static void stop(int signal) {
    (void)signal;
    _exit(0);
}

int main(int argc, char **argv) {
    parse_flags(argc, argv);
    slots = calloc((size_t)opt.keys, sizeof *slots);
    if (!slots) die(1, "out of memory for %ld keys", opt.keys);
    heap_build();
    struct sigaction on_stop = {.sa_handler = stop};
    sigaction(SIGINT, &on_stop, NULL);
    sigaction(SIGTERM, &on_stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) die(2, "--host %s: not an IPv4 address", opt.host);
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096))
        die(2, "cannot serve on %s:%d: %s", opt.host, opt.port, strerror(errno));
    socklen_t size = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &size);
    sem_init(&slots_free, 0, (unsigned)opt.workers);
    printf("sharebench: serving %s on http://%s:%d pid=%d workers=%d connection_cap=%d\n",
           opt.name, opt.host, ntohs(addr.sin_port), (int)getpid(), opt.workers, opt.workers);
    fflush(stdout);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 512 << 10);  /* JSON nests at most MAX_DEPTH deep */
    for (;;) {
        int fd;
        do fd = accept(listener, NULL, NULL); while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
        if (fd < 0) { usleep(10000); continue; }  /* out of descriptors: let some close */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t thread;
        if (pthread_create(&thread, &attr, connection, (void *)(intptr_t)fd)) close(fd);
    }
}
