#ifndef ROVE_SERVER_CERT_H
#define ROVE_SERVER_CERT_H

/*
 * Local certificates for --demo: a CA (dir/ca.pem, CA:true) and a server
 * certificate it signs for CN=localhost with subjectAltName DNS:localhost,
 * IP:127.0.0.1 and IP:::1, written with its EC P-256 key as dir/server.pem
 * (key then certificate, mode 0600: the form CivetWeb's Mbed TLS module
 * loads). The CA's private key is not kept.
 */

#include <stddef.h>

/*
 * Uses dir/server.pem when it exists, else generates both files. Writes the
 * server PEM path into path. *created is set to 1 when files were generated.
 * 0, or ROVE_EGENERIC with a message logged.
 */
int roved_cert_ensure_demo(const char *dir, char *path, size_t size, int *created);

#endif
