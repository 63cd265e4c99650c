/* mbedTLS (Debian's source package, fetched by make into firmware/build/mbedtls)
   built with SHA-256 only, the small variant: the bootloader has 32 KiB. */
#ifndef BOOT_MBEDTLS_CONFIG_H
#define BOOT_MBEDTLS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

#endif
