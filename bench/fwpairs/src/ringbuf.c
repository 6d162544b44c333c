/* SPDX-License-Identifier: Apache-2.0 */
/* Byte ring buffer (single producer, single consumer; the log and the shell's input use it). */
#include <string.h>

#include "meter.h"

#if defined(FW_LARGE)
/* 2.0: power-of-two capacity, free-running indices masked on access, no separate count. */
#define RB_MASK(rb) ((uint16_t)((rb)->size - 1u))

void rb_init(ringbuf_t *rb, uint8_t *storage, uint16_t size)
{
    rb->data = storage;
    rb->size = size; /* must be a power of two */
    rb->head = rb->tail = 0;
    rb->high_water = 0;
    rb->dropped = 0;
}

uint16_t rb_count(const ringbuf_t *rb)
{
    return (uint16_t)(rb->head - rb->tail);
}

uint16_t rb_space(const ringbuf_t *rb)
{
    return (uint16_t)(rb->size - rb_count(rb));
}

bool rb_put(ringbuf_t *rb, uint8_t byte)
{
    if (rb_space(rb) == 0u) {
        rb->dropped++;
        return false;
    }
    rb->data[rb->head & RB_MASK(rb)] = byte;
    rb->head++;
    uint16_t n = rb_count(rb);
    if (n > rb->high_water) {
        rb->high_water = n;
    }
    return true;
}

int rb_get(ringbuf_t *rb)
{
    if (rb_count(rb) == 0u) {
        return -1;
    }
    uint8_t b = rb->data[rb->tail & RB_MASK(rb)];
    rb->tail++;
    return b;
}

int rb_peek(const ringbuf_t *rb, uint16_t index)
{
    if (index >= rb_count(rb)) {
        return -1;
    }
    return rb->data[(uint16_t)(rb->tail + index) & RB_MASK(rb)];
}

uint16_t rb_write(ringbuf_t *rb, const uint8_t *src, uint16_t len)
{
    uint16_t n = rb_space(rb);
    if (len > n) {
        rb->dropped += (uint32_t)(len - n);
        len = n;
    }
    uint16_t at = rb->head & RB_MASK(rb);
    uint16_t first = (uint16_t)(rb->size - at) < len ? (uint16_t)(rb->size - at) : len;
    memcpy(&rb->data[at], src, first);
    memcpy(rb->data, src + first, (size_t)(len - first));
    rb->head = (uint16_t)(rb->head + len);
    if (rb_count(rb) > rb->high_water) {
        rb->high_water = rb_count(rb);
    }
    return len;
}

uint16_t rb_read(ringbuf_t *rb, uint8_t *dst, uint16_t len)
{
    uint16_t n = rb_count(rb);
    if (len > n) {
        len = n;
    }
    uint16_t at = rb->tail & RB_MASK(rb);
    uint16_t first = (uint16_t)(rb->size - at) < len ? (uint16_t)(rb->size - at) : len;
    memcpy(dst, &rb->data[at], first);
    memcpy(dst + first, rb->data, (size_t)(len - first));
    rb->tail = (uint16_t)(rb->tail + len);
    return len;
}

void rb_discard(ringbuf_t *rb, uint16_t len)
{
    uint16_t n = rb_count(rb);
    rb->tail = (uint16_t)(rb->tail + (len < n ? len : n));
}

void rb_clear(ringbuf_t *rb)
{
    rb->tail = rb->head;
}

#else

void rb_init(ringbuf_t *rb, uint8_t *storage, uint16_t size)
{
    rb->data = storage;
    rb->size = size;
    rb->head = 0;
    rb->tail = 0;
    rb->count = 0;
    rb->high_water = 0;
    rb->dropped = 0;
}

static uint16_t advance(const ringbuf_t *rb, uint16_t index, uint16_t by)
{
    uint32_t next = (uint32_t)index + by;
    return (uint16_t)(next >= rb->size ? next - rb->size : next);
}

uint16_t rb_count(const ringbuf_t *rb)
{
    return rb->count;
}

uint16_t rb_space(const ringbuf_t *rb)
{
    return (uint16_t)(rb->size - rb->count);
}

bool rb_put(ringbuf_t *rb, uint8_t byte)
{
    if (rb->count == rb->size) {
        rb->dropped++;
        return false;
    }
    rb->data[rb->head] = byte;
    rb->head = advance(rb, rb->head, 1);
    rb->count++;
    if (rb->count > rb->high_water) {
        rb->high_water = rb->count;
    }
    return true;
}

int rb_get(ringbuf_t *rb)
{
    if (rb->count == 0u) {
        return -1;
    }
    uint8_t b = rb->data[rb->tail];
    rb->tail = advance(rb, rb->tail, 1);
    rb->count--;
    return b;
}

int rb_peek(const ringbuf_t *rb, uint16_t index)
{
    if (index >= rb->count) {
        return -1;
    }
    return rb->data[advance(rb, rb->tail, index)];
}

uint16_t rb_write(ringbuf_t *rb, const uint8_t *src, uint16_t len)
{
    uint16_t written = 0;
    while (written < len && rb_put(rb, src[written])) {
        written++;
    }
    if (written < len) {
        rb->dropped += (uint32_t)(len - written - 1u); /* rb_put counted one */
    }
    return written;
}

uint16_t rb_read(ringbuf_t *rb, uint8_t *dst, uint16_t len)
{
    uint16_t n = 0;
    while (n < len) {
        int b = rb_get(rb);
        if (b < 0) {
            break;
        }
        dst[n++] = (uint8_t)b;
    }
    return n;
}

void rb_discard(ringbuf_t *rb, uint16_t len)
{
    if (len > rb->count) {
        len = rb->count;
    }
    rb->tail = advance(rb, rb->tail, len);
    rb->count = (uint16_t)(rb->count - len);
}

void rb_clear(ringbuf_t *rb)
{
    rb->head = rb->tail = 0;
    rb->count = 0;
}
#endif
