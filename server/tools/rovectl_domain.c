/* rovectl commands of the domain area: stages, tiers, task assignment, skills, absences (domain area). See rovectl.h. */
#include "rovectl.h"

const char rovectl_domain_usage[] = "";

int rovectl_domain_command(rovectl *o)
{
    (void)o;
    return ROVECTL_NOT_MINE;
}
