/* rovectl commands of the scope area: accounts assign, territory membership (scope area). See rovectl.h. */
#include "rovectl.h"

const char rovectl_scope_usage[] = "";

int rovectl_scope_command(rovectl *o)
{
    (void)o;
    return ROVECTL_NOT_MINE;
}
