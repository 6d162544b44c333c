/* SPDX-License-Identifier: Apache-2.0 */
/* The bench firmware "meter": a measurement front end with a console shell. Built in several
 * release variants (fw_config.h) to measure delta-patch sizes between releases. */
#include "bsp.h"
#include "meter.h"
#include "spb_board.h"

int main(void)
{
    bsp_init();
    log_init();
    params_init();
    sensor_init();
    fsm_init();
    con_printf("\n%s %s on %s (%lu MHz)\n", FW_NAME, FW_VERSION, SPB_BOARD_NAME,
               (unsigned long)(SPB_SYSCLK_HZ / 1000000u));
    log_msg(LOG_INFO, "%s %s started", FW_NAME, FW_VERSION);
    shell_init();
    uint32_t next_sample = bsp_millis();
    for (;;) {
        int c = bsp_getc(0);
        if (c >= 0) {
            shell_input((char)c);
        }
        uint32_t now = bsp_millis();
        if ((int32_t)(now - next_sample) >= 0) {
            next_sample += params_u32(PARAM_SAMPLE_PERIOD_MS);
            sensor_tick(now);
        }
        fsm_poll(now);
    }
}
