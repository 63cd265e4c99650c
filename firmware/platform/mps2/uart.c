/* CMSDK APB UART0 of mps2-an385, receive side interrupt-driven. When the receive
   queue is full the interrupt stops taking bytes (the receive interrupt is
   disabled): the UART's one-byte buffer stays full, and QEMU holds the next bytes
   back (flow control) instead of the queue dropping them. */
#include "mps2.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_INTSTATUS (*(volatile uint32_t *)(UART0_BASE + 0x0Cu))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))

#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INT_EN 8u
#define INT_RX 2u

#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define UART0_RX_IRQ 0u

#define RX_QUEUE_SIZE 512u /* power of two */

static volatile uint8_t rx_queue[RX_QUEUE_SIZE];
static volatile uint32_t rx_head; /* written by the interrupt */
static volatile uint32_t rx_tail; /* written by the main loop */
static volatile int rx_paused; /* the queue was full: the receive interrupt is off */

void uart0_rx_handler(void);

void mps2_uart_init(void)
{
  UART_BAUDDIV = MPS2_CPU_HZ / 115200u;
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

void mps2_uart_write(const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = data[i];
  }
}

void uart0_rx_handler(void)
{
  /* Clear first: a byte arriving during the loop then raises the interrupt again. */
  UART_INTSTATUS = INT_RX;
  while (UART_STATE & STATE_RX_FULL) {
    if (rx_head - rx_tail >= RX_QUEUE_SIZE) {
      UART_CTRL = CTRL_TX_EN | CTRL_RX_EN; /* the byte waits in the UART */
      rx_paused = 1;
      return;
    }
    rx_queue[rx_head % RX_QUEUE_SIZE] = (uint8_t)UART_DATA;
    rx_head++;
  }
}

void mps2_uart_nudge(void)
{
  __asm volatile("cpsid i" ::: "memory");
  if (!(UART_STATE & STATE_RX_FULL) && !rx_paused) {
    (void)UART_DATA; /* empty: nothing is taken */
  }
  __asm volatile("cpsie i" ::: "memory");
}

size_t mps2_uart_read(uint8_t *buf, size_t cap)
{
  size_t n = 0;
  while (n < cap && rx_tail != rx_head) {
    buf[n++] = rx_queue[rx_tail % RX_QUEUE_SIZE];
    rx_tail++;
  }
  if (rx_paused && rx_head - rx_tail < RX_QUEUE_SIZE) {
    /* Room again: take what waits in the UART, then let the interrupt go on. */
    __asm volatile("cpsid i" ::: "memory");
    rx_paused = 0;
    uart0_rx_handler();
    if (!rx_paused) {
      UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    }
    __asm volatile("cpsie i" ::: "memory");
  }
  return n;
}
