// OpenLDAP's client library (libldap), for the LDAP Auth plugin.
#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <lber.h>
