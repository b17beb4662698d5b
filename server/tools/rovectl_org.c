/* rovectl commands of the org area: import and territories (org area). See rovectl.h. */
#include "rovectl.h"

const char rovectl_org_usage[] = "";

int rovectl_org_command(rovectl *o)
{
    (void)o;
    return ROVECTL_NOT_MINE;
}
