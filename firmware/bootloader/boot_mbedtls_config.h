/* mbedTLS (Debian's source package, fetched by make into firmware/build/mbedtls)
   built with SHA-256 and SHA-512 only, their small variants (no SHA-384): the
   bootloader has 32 KiB. SHA-512 serves libsodium's Ed25519 (boot_sha512.c). */
#ifndef BOOT_MBEDTLS_CONFIG_H
#define BOOT_MBEDTLS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_C
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_SHA512_NO_SHA384

#endif
