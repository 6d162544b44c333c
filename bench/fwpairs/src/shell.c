/* SPDX-License-Identifier: Apache-2.0 */
/* Command shell on the console: line editing with backspace and a small history (up/down arrows),
 * a tokenizer with double quotes, and a command table with usage and help texts. */
#include <stdio.h>
#include <string.h>

#include "bsp.h"
#include "meter.h"

typedef int (*shell_handler_t)(int argc, char **argv);

typedef struct {
    const char *name;
    uint8_t min_args, max_args;
    shell_handler_t handler;
    const char *usage;
    const char *help;
} shell_command_t;

static char line[SHELL_LINE_MAX + 1];
static uint8_t line_len;
static char history[SHELL_HISTORY][SHELL_LINE_MAX + 1];
static uint8_t history_count, history_next;
static int8_t history_browse = -1;
static uint8_t esc_state; /* 0 none, 1 ESC seen, 2 ESC [ seen */
static uint32_t commands_run, command_errors;

static const shell_command_t commands[];
static const unsigned command_count;

static void prompt(void)
{
#if defined(FW_LARGE)
    con_printf("%s:%s> ", FW_NAME, fsm_state_name(fsm_state()));
#else
    bsp_puts("meter> ");
#endif
}

static int tokenize(char *s, char **argv, int max)
{
    int argc = 0;
    while (*s != '\0') {
        while (*s == ' ' || *s == '\t') {
            *s++ = '\0';
        }
        if (*s == '\0') {
            break;
        }
        if (argc == max) {
            return -1;
        }
        if (*s == '"') {
            argv[argc++] = ++s;
            while (*s != '\0' && *s != '"') {
                s++;
            }
            if (*s == '"') {
                *s++ = '\0';
            }
        } else {
            argv[argc++] = s;
            while (*s != '\0' && *s != ' ' && *s != '\t') {
                s++;
            }
        }
    }
    return argc;
}

static const shell_command_t *find_command(const char *name)
{
    for (unsigned i = 0; i < command_count; i++) {
        if (str_casecmp(name, commands[i].name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static void execute(char *text)
{
    char *argv[SHELL_MAX_ARGS];
    int argc = tokenize(text, argv, (int)SHELL_MAX_ARGS);
    if (argc < 0) {
        con_printf("too many arguments (at most %u)\n", (unsigned)SHELL_MAX_ARGS - 1u);
        command_errors++;
        return;
    }
    if (argc == 0) {
        return;
    }
    const shell_command_t *cmd = find_command(argv[0]);
    if (cmd == NULL) {
        con_printf("unknown command '%s', try 'help'\n", argv[0]);
        command_errors++;
        return;
    }
    if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
        con_printf("usage: %s %s\n", cmd->name, cmd->usage);
        command_errors++;
        return;
    }
    commands_run++;
    if (cmd->handler(argc, argv) != 0) {
        command_errors++;
    }
}

static void history_add(const char *text)
{
    if (text[0] == '\0') {
        return;
    }
    uint8_t last = (uint8_t)((history_next + SHELL_HISTORY - 1u) % SHELL_HISTORY);
    if (history_count > 0u && strcmp(history[last], text) == 0) {
        return;
    }
    strcpy(history[history_next], text);
    history_next = (uint8_t)((history_next + 1u) % SHELL_HISTORY);
    if (history_count < SHELL_HISTORY) {
        history_count++;
    }
}

static void replace_line(const char *text)
{
    while (line_len > 0u) {
        bsp_puts("\b \b");
        line_len--;
    }
    strcpy(line, text);
    line_len = (uint8_t)strlen(line);
    bsp_puts(line);
}

static void history_step(int dir)
{
    if (history_count == 0u) {
        return;
    }
    int next = history_browse + dir;
    if (next < -1) {
        next = -1;
    }
    if (next >= (int)history_count) {
        next = (int)history_count - 1;
    }
    history_browse = (int8_t)next;
    if (next < 0) {
        replace_line("");
    } else {
        replace_line(history[(history_next + SHELL_HISTORY - 1u - (unsigned)next) % SHELL_HISTORY]);
    }
}

void shell_input(char c)
{
    if (esc_state == 1u) {
        esc_state = c == '[' ? 2u : 0u;
        return;
    }
    if (esc_state == 2u) {
        esc_state = 0;
        if (c == 'A') {
            history_step(1);
        } else if (c == 'B') {
            history_step(-1);
        }
        return;
    }
    switch (c) {
    case 0x1B:
        esc_state = 1;
        break;
    case '\r':
    case '\n':
        bsp_puts("\r\n");
        line[line_len] = '\0';
        history_add(line);
        history_browse = -1;
        execute(line);
        line_len = 0;
        prompt();
        break;
    case '\b':
    case 0x7F:
        if (line_len > 0u) {
            line_len--;
            bsp_puts("\b \b");
        }
        break;
    case 0x03: /* Ctrl-C */
        bsp_puts("^C\r\n");
        line_len = 0;
        prompt();
        break;
    default:
        if (c >= ' ' && c < 0x7F && line_len < SHELL_LINE_MAX) {
            line[line_len++] = c;
            if (params_u32(PARAM_ECHO)) {
                bsp_putc(c);
            }
        }
        break;
    }
}

/* ---- commands --------------------------------------------------------------------------------- */

static int cmd_help(int argc, char **argv)
{
    if (argc == 2) {
        const shell_command_t *cmd = find_command(argv[1]);
        if (cmd == NULL) {
            con_printf("no command '%s'\n", argv[1]);
            return 1;
        }
        con_printf("%s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
        return 0;
    }
    for (unsigned i = 0; i < command_count; i++) {
        con_printf("  %-9s %s\n", commands[i].name, commands[i].help);
    }
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("%s %s, built with gcc %s\n", FW_NAME, FW_VERSION, __VERSION__);
    return 0;
}

static int cmd_uptime(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char buf[24];
    con_printf("up %s, %lu commands, %lu errors\n", fmt_duration(bsp_millis(), buf, sizeof buf),
               (unsigned long)commands_run, (unsigned long)command_errors);
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fsm_print_status();
    con_printf("sensor %s, last %ld mV, log dropped %lu\n", sensor_measuring() ? "on" : "off",
               (long)sensor_last_mv(), (unsigned long)log_dropped());
    return 0;
}

static int cmd_param(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    if (strcmp(sub, "list") == 0) {
        params_list();
        return 0;
    }
    if (strcmp(sub, "save") == 0) {
        return params_save() ? 0 : 1;
    }
    if (strcmp(sub, "load") == 0) {
        if (!params_load()) {
            con_printf("no valid saved parameters\n");
            return 1;
        }
        return 0;
    }
    if (strcmp(sub, "defaults") == 0) {
        params_defaults();
        con_printf("defaults restored (not saved)\n");
        return 0;
    }
    if ((strcmp(sub, "get") == 0 && argc == 3) || (strcmp(sub, "set") == 0 && argc == 4)) {
        int id = params_find(argv[2]);
        if (id < 0) {
            con_printf("no parameter '%s'\n", argv[2]);
            return 1;
        }
        if (argc == 4 && !params_set_text((param_id_t)id, argv[3])) {
            return 1;
        }
        params_print((param_id_t)id);
        return 0;
    }
    con_printf("usage: param [list|get NAME|set NAME VALUE|save|load|defaults]\n");
    return 1;
}

static int cmd_log(int argc, char **argv)
{
    log_dump(argc == 2 && strcmp(argv[1], "clear") == 0);
    return 0;
}

static int cmd_crc(int argc, char **argv)
{
    (void)argc;
    size_t n = strlen(argv[1]);
    con_printf("crc8   %02x\n", crc8(argv[1], n));
    con_printf("crc16  %04x\n", crc16_ccitt(0xFFFFu, argv[1], n));
    con_printf("crc32  %08lx\n", (unsigned long)crc32(argv[1], n));
    con_printf("adler  %08lx\n", (unsigned long)adler32(argv[1], n));
    con_printf("fnv1a  %08lx\n", (unsigned long)fnv1a32(argv[1], n));
    return 0;
}

static int cmd_sha256(int argc, char **argv)
{
    sha256_ctx_t ctx;
    uint8_t digest[32];
    sha256_init(&ctx);
    for (int i = 1; i < argc; i++) {
        if (i > 1) {
            sha256_update(&ctx, " ", 1);
        }
        sha256_update(&ctx, argv[i], strlen(argv[i]));
    }
    sha256_final(&ctx, digest);
    for (unsigned i = 0; i < sizeof digest; i++) {
        con_printf("%02x", digest[i]);
    }
    con_printf("\n");
    return 0;
}

static int cmd_filter(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "reset") == 0) {
        sensor_reset_filters();
        con_printf("filters reset\n");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "impulse") == 0) {
        fir_q15_t f;
        fir_init(&f);
        for (unsigned i = 0; i < fir_taps(); i++) {
            int16_t y = fir_step(&f, i == 0u ? 32767 : 0);
            con_printf("%2u %6d ", i, y);
            con_print_fixed(y, 15, 4);
            con_printf("\n");
        }
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "tone") == 0) {
        uint32_t hz;
        if (!parse_u32(argv[2], &hz) || hz >= 500u) {
            con_printf("frequency 0..499 Hz\n");
            return 1;
        }
        int16_t buf[128];
        fir_q15_t f;
        fir_init(&f);
        uint16_t step = (uint16_t)(hz * 65536u / 1000u), phase = 0;
        for (unsigned i = 0; i < 128u; i++) {
            buf[i] = fir_step(&f, (int16_t)(dsp_sin_q15(phase) / 2));
            phase = (uint16_t)(phase + step);
        }
        uint16_t rms = dsp_rms(buf + 64, 64);
        con_printf("%lu Hz: output rms %u of %u, gain ", (unsigned long)hz, rms, 11585u);
        con_print_fixed(dsp_db_q8((uint32_t)rms * rms + 1u, 11585u * 11585u), 8, 1);
        con_printf(" dB\n");
        return 0;
    }
    con_printf("usage: filter reset|impulse|tone HZ\n");
    return 1;
}

static int cmd_stats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sensor_print_stats();
    return 0;
}

static int cmd_scope(int argc, char **argv)
{
    uint32_t cols = 64;
    if (argc == 2 && (!parse_u32(argv[1], &cols) || cols < 8u)) {
        con_printf("columns: 8..%u\n", (unsigned)SAMPLE_HISTORY);
        return 1;
    }
    sensor_scope(cols);
    return 0;
}

static int cmd_calc(int argc, char **argv)
{
    (void)argc;
    float a, b, r;
    if (!parse_float(argv[1], &a) || !parse_float(argv[3], &b)) {
        con_printf("numbers, please\n");
        return 1;
    }
    switch (argv[2][0]) {
    case '+':
        r = a + b;
        break;
    case '-':
        r = a - b;
        break;
    case '*':
    case 'x':
        r = a * b;
        break;
    case '/':
        if (b == 0.0f) {
            con_printf("division by zero\n");
            return 1;
        }
        r = a / b;
        break;
    default:
        con_printf("operator + - * /\n");
        return 1;
    }
    con_printf("%g (%.6e)\n", (double)r, (double)r);
    return 0;
}

static int cmd_temp(int argc, char **argv)
{
    (void)argc;
    int32_t adc;
    if (!parse_i32(argv[1], &adc) || adc < 0 || adc > 4095) {
        con_printf("ADC code 0..4095\n");
        return 1;
    }
    int32_t t = sensor_ntc_deci_celsius(adc);
    con_printf("%ld -> %ld.%ld degC\n", (long)adc, (long)(t / 10), (long)(t < 0 ? -t % 10 : t % 10));
    return 0;
}

static int cmd_gamma(int argc, char **argv)
{
    (void)argc;
    uint32_t level;
    if (!parse_u32(argv[1], &level) || level > 100u) {
        con_printf("level 0..100 %%\n");
        return 1;
    }
    uint8_t lin = (uint8_t)(level * 255u / 100u);
    con_printf("%lu%% -> pwm %u/255 (%.1f%%)\n", (unsigned long)level, table_gamma8[lin],
               (double)table_gamma8[lin] * 100.0 / 255.0);
    return 0;
}

static int post_event(fsm_event_t ev, int32_t arg)
{
    if (!fsm_post(ev, arg)) {
        con_printf("event queue full\n");
        return 1;
    }
    return 0;
}

static int cmd_arm(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return post_event(EV_ARM, 0);
}

static int cmd_start(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return post_event(EV_START, 0);
}

static int cmd_stop(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return post_event(EV_STOP, 0);
}

static int cmd_clear(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return post_event(EV_CLEAR, 0);
}

static int cmd_cal(int argc, char **argv)
{
    int32_t ref;
    if (argc == 1) {
        return post_event(EV_CALIBRATE, 0);
    }
    if (!parse_i32(argv[1], &ref)) {
        con_printf("reference in mV\n");
        return 1;
    }
    return post_event(EV_CAL_DONE, ref);
}

#if defined(FW_LARGE)
static int cmd_pid(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "on") == 0) {
        return post_event(EV_REGULATE, 0);
    }
    if (argc == 2 && strcmp(argv[1], "off") == 0) {
        return post_event(EV_STOP, 0);
    }
    pid_print();
    return 0;
}
#endif

static int cmd_dump(int argc, char **argv)
{
    uint32_t addr, len = 64;
    if (!parse_u32(argv[1], &addr) || (argc == 3 && !parse_u32(argv[2], &len))) {
        con_printf("address and length: decimal or 0x hex\n");
        return 1;
    }
    if (len > 1024u) {
        len = 1024u;
    }
    con_hexdump(addr, (const void *)(uintptr_t)addr, len);
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static uint8_t buf[2048];
    char size[16];
    for (unsigned i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)prng_next();
    }
    uint32_t t0 = bsp_millis();
    uint32_t crc = 0;
    for (unsigned r = 0; r < 16u; r++) {
        crc = crc32_update(crc, buf, sizeof buf);
    }
    uint32_t t1 = bsp_millis();
    sha256_ctx_t ctx;
    uint8_t digest[32];
    sha256_init(&ctx);
    for (unsigned r = 0; r < 16u; r++) {
        sha256_update(&ctx, buf, sizeof buf);
    }
    sha256_final(&ctx, digest);
    uint32_t t2 = bsp_millis();
    fmt_bytes(16u * sizeof buf, size, sizeof size);
    con_printf("crc32  %s in %lu ms (%08lx)\n", size, (unsigned long)(t1 - t0), (unsigned long)crc);
    con_printf("sha256 %s in %lu ms (%02x%02x%02x%02x...)\n", size, (unsigned long)(t2 - t1), digest[0], digest[1],
               digest[2], digest[3]);
    return 0;
}

static int cmd_reset(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("resetting\n");
    bsp_reset();
}

static const shell_command_t commands[] = {
    {"help", 0, 1, cmd_help, "[COMMAND]", "list the commands, or explain one"},
    {"version", 0, 0, cmd_version, "", "firmware version and compiler"},
    {"uptime", 0, 0, cmd_uptime, "", "time since reset and command counters"},
    {"status", 0, 0, cmd_status, "", "controller state, event queue and sensor"},
    {"param", 0, 3, cmd_param, "[list|get NAME|set NAME VALUE|save|load|defaults]", "show or change settings"},
    {"log", 0, 1, cmd_log, "[clear]", "print the event log"},
    {"crc", 1, 1, cmd_crc, "TEXT", "checksums of TEXT (crc8/16/32, adler32, fnv1a)"},
    {"sha256", 1, 7, cmd_sha256, "WORDS...", "SHA-256 of the words joined by spaces"},
    {"filter", 1, 2, cmd_filter, "reset|impulse|tone HZ", "inspect the measurement filters"},
    {"stats", 0, 0, cmd_stats, "", "measurement statistics, RMS and mains residue"},
    {"scope", 0, 1, cmd_scope, "[COLUMNS]", "plot the most recent filtered samples"},
    {"calc", 3, 3, cmd_calc, "A OP B", "floating-point calculator (+ - * /)"},
    {"temp", 1, 1, cmd_temp, "ADC", "NTC thermistor code to temperature"},
    {"gamma", 1, 1, cmd_gamma, "PERCENT", "perceived brightness to PWM duty"},
    {"arm", 0, 0, cmd_arm, "", "arm the controller"},
    {"start", 0, 0, cmd_start, "", "start measuring (when armed)"},
    {"stop", 0, 0, cmd_stop, "", "stop measuring"},
    {"clear", 0, 0, cmd_clear, "", "acknowledge an alarm or a fault"},
    {"cal", 0, 1, cmd_cal, "[REFERENCE_MV]", "enter calibration, then give the reference"},
#if defined(FW_LARGE)
    {"pid", 0, 1, cmd_pid, "[on|off]", "output regulator: status, or start/stop regulating"},
#endif
    {"dump", 1, 2, cmd_dump, "ADDRESS [LENGTH]", "hex dump of memory"},
    {"bench", 0, 0, cmd_bench, "", "CRC-32 and SHA-256 throughput"},
    {"reset", 0, 0, cmd_reset, "", "restart through the bootloader"},
};

static const unsigned command_count = sizeof commands / sizeof commands[0];

void shell_init(void)
{
    line_len = 0;
    history_count = history_next = 0;
    prompt();
}
