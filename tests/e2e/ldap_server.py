"""A real OpenLDAP `slapd` (Debian's package) for the end-to-end suite: its own CA, ldap://
(StartTLS) and ldaps:// listeners on loopback, seeded with people, a group and a service
account."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from certs import self_signed_ca_and_cert
from kms import free_port

BASE = "dc=example,dc=org"
ADMIN_DN, ADMIN_PW = f"cn=admin,{BASE}", "admin-secret"
SERVICE_DN, SERVICE_PW = f"cn=kms,ou=services,{BASE}", "service-secret"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}
DEPLOYERS = f"cn=deployers,ou=groups,{BASE}"


def slapd_binary() -> str:
    for candidate in ("/usr/sbin/slapd", shutil.which("slapd")):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("slapd is not installed: run `make test-deps` (Debian's slapd and ldap-utils)")


def seed_ldif() -> str:
    people = "".join(f"""
dn: uid={name},ou=people,{BASE}
objectClass: inetOrgPerson
uid: {name}
cn: {name.title()}
sn: {name.title()}
departmentNumber: {"platform" if name != "bob" else "sales"}
userPassword: {password}
""" for name, password in PASSWORDS.items())
    return f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{BASE}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: kms
userPassword: {SERVICE_PW}
{people}
dn: {DEPLOYERS}
objectClass: groupOfNames
cn: deployers
member: uid=alice,ou=people,{BASE}
member: uid=carol,ou=people,{BASE}
"""


class LDAPServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="slapd-"))
        self.ca_pem, cert, key = self_signed_ca_and_cert()
        for name, text in (("ca.pem", self.ca_pem), ("cert.pem", cert), ("key.pem", key)):
            (self.dir / name).write_text(text)
        (self.dir / "db").mkdir()
        self.port, self.tls_port = free_port(), free_port()
        self.starttls_url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = f"ldaps://127.0.0.1:{self.tls_port}"
        schema = "/etc/ldap/schema"
        (self.dir / "slapd.conf").write_text(f"""
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/nis.schema
include {schema}/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {self.dir}/slapd.pid
TLSCACertificateFile {self.dir}/ca.pem
TLSCertificateFile {self.dir}/cert.pem
TLSCertificateKeyFile {self.dir}/key.pem
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PW}
directory {self.dir}/db
# A simple bind needs TLS: a client that skipped StartTLS would be refused.
security simple_bind=128
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
""")
        self.log = open(self.dir / "slapd.log", "wb")
        self.process = subprocess.Popen([slapd_binary(), "-f", str(self.dir / "slapd.conf"), "-h", f"{self.starttls_url}/ {self.ldaps_url}/",
                                         "-d", "0"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("slapd exited: " + (self.dir / "slapd.log").read_text(errors="replace")[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("slapd did not start listening")
                time.sleep(0.1)
        (self.dir / "seed.ldif").write_text(seed_ldif())
        seeded = subprocess.run(["ldapadd", "-x", "-ZZ", "-H", self.starttls_url, "-D", ADMIN_DN, "-w", ADMIN_PW, "-f", str(self.dir / "seed.ldif")],
                                env={**os.environ, "LDAPTLS_CACERT": str(self.dir / "ca.pem")}, capture_output=True, text=True, timeout=30)
        if seeded.returncode != 0:
            raise RuntimeError("seeding slapd failed: " + seeded.stderr)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
