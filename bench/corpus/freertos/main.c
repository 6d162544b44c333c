/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark application around the FreeRTOS kernel: a producer and a consumer task on a queue, a mutex,
 * an event group, a stream buffer and a software timer. The same source is built against several
 * FreeRTOS-Kernel releases (bench/corpus/build.py): the images differ by what changed in the kernel. */
#include "FreeRTOS.h"
#include "event_groups.h"
#include "queue.h"
#include "semphr.h"
#include "stream_buffer.h"
#include "task.h"
#include "timers.h"

static QueueHandle_t queue;
static SemaphoreHandle_t lock;
static EventGroupHandle_t events;
static StreamBufferHandle_t stream;
volatile uint32_t total, ticks;

static void producer(void *arg)
{
    uint32_t n = 0;
    (void)arg;
    for (;;) {
        xQueueSend(queue, &n, portMAX_DELAY);
        xStreamBufferSend(stream, &n, sizeof n, 0);
        n++;
        vTaskDelay(pdMS_TO_TICKS(10));
    }
}

static void consumer(void *arg)
{
    uint32_t v, w;
    (void)arg;
    for (;;) {
        if (xQueueReceive(queue, &v, portMAX_DELAY) == pdTRUE) {
            xSemaphoreTake(lock, portMAX_DELAY);
            total += v;
            xSemaphoreGive(lock);
            xStreamBufferReceive(stream, &w, sizeof w, 0);
            xEventGroupSetBits(events, 1u << (v & 7u));
        }
    }
}

static void tick(TimerHandle_t timer)
{
    (void)timer;
    ticks++;
    xEventGroupClearBits(events, 0xFFu);
}

int main(void)
{
    queue = xQueueCreate(8, sizeof(uint32_t));
    lock = xSemaphoreCreateMutex();
    events = xEventGroupCreate();
    stream = xStreamBufferCreate(64, 4);
    xTaskCreate(producer, "prod", 256, NULL, 2, NULL);
    xTaskCreate(consumer, "cons", 256, NULL, 1, NULL);
    xTimerStart(xTimerCreate("tick", pdMS_TO_TICKS(100), pdTRUE, NULL, tick), 0);
    vTaskStartScheduler();
    for (;;) {
    }
}
