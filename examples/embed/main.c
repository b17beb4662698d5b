/*
 * embed: the smallest useful librove program. Opens (or creates) a replica,
 * writes an account offline, lists the accounts, and syncs when a server is
 * given:
 *
 *   embed replica.db [https://server:8443 ca.pem user password]
 */
#include <stdio.h>

#include <rove/rove.h>

static int die(rove_client *c, int rc)
{
    fprintf(stderr, "error: %s: %s\n", rove_strerror(rc),
            c ? rove_client_errmsg(c) : rove_last_open_error());
    rove_client_free(c);
    rove_global_cleanup();
    return 1;
}

int main(int argc, char **argv)
{
    rove_client_options opts = ROVE_CLIENT_OPTIONS_INIT;
    rove_client *c = NULL;
    rove_rows *rows = NULL;
    char id[ROVE_ID_SIZE];
    int rc;

    if (argc != 2 && argc != 6) {
        fprintf(stderr, "usage: %s replica.db [server-url ca.pem user password]\n", argv[0]);
        return 2;
    }
    if ((rc = rove_global_init()) != 0)
        return die(NULL, rc);
    opts.db_path = argv[1];
    if (argc == 6) {
        opts.server_url = argv[2];
        opts.ca_file = argv[3];
    }
    if ((rc = rove_client_open(&c, &opts)) != 0)
        return die(NULL, rc);
    printf("librove %s, device %s\n", ROVE_VERSION_STRING, rove_client_device_id(c));

    if (argc == 6 && !rove_client_logged_in(c) &&
        (rc = rove_client_login(c, argv[4], argv[5])) != 0)
        return die(c, rc);

    /* A local write: lands in the replica and the outbox in one transaction. */
    if ((rc = rove_account_create(c, id, "Embedded Example Ltd", "1 Example Road", NULL,
                                  ROVE_NO_GEO, ROVE_NO_GEO)) != 0)
        return die(c, rc);
    printf("created account %s\n", id);

    if (argc == 6) {
        rove_sync_report rep;
        if ((rc = rove_client_sync(c, &rep)) != 0)
            return die(c, rc);
        printf("synced: pushed %llu, pulled %llu\n", (unsigned long long)rep.pushed,
               (unsigned long long)rep.pulled);
    }

    if ((rc = rove_accounts_list(c, &rows)) != 0)
        return die(c, rc);
    int n = 0;
    while ((rc = rove_rows_next(rows)) == 1)
        n++;
    rove_rows_free(rows);
    if (rc < 0)
        return die(c, rc);
    printf("%d account%s in the replica\n", n, n == 1 ? "" : "s");

    rove_client_free(c);
    rove_global_cleanup();
    return 0;
}
