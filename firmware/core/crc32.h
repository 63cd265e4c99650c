/* CRC-32 of IEEE 802.3, zlib and PNG (CRC-32/ISO-HDLC): reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF; "123456789" gives 0xCBF43926. */
#ifndef CRC32_H
#define CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over len bytes: crc32(b, crc32(a, 0)) is the CRC of a then b. */
uint32_t crc32(const uint8_t *bytes, size_t len, uint32_t crc);

#endif
