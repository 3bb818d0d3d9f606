/*
 * tls.c: TLS for Hearth on mbedTLS 2.28 (configured in
 * tls/hearth_mbedtls_config.h: TLS 1.2, ECDHE + AEAD only, no renegotiation,
 * session tickets). Entropy comes only from the board's rng, through
 * mbedtls_hardware_poll; stack_tls_init refuses to go on (and so nothing is
 * served over TLS) unless the rng answers and its output is not stuck.
 * The device identity is an ECDSA P-256 key made on first use and a
 * self-signed certificate for CN/SAN hearth.local plus localhost and the
 * device's current addresses; its SHA-256 fingerprint and SPKI pin are
 * printed so the owner can check them in the browser.
 * The key and certificate are kept through the hub's store when it gives
 * one (stack_tls_set_persist), so the fingerprint survives reboots; the
 * certificate is reissued (same key) only when the device's IPv4 address is
 * no longer the one it names.
 * Assumes: called from the event loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp_tls.h"
#include "lwip/netif.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/base64.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

#include <board.h>

#include "stack.h"

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool drbg_ready;
static mbedtls_pk_context key;
static bool have_key;
static uint8_t cert_buf[2048];
static const uint8_t *cert_der;
static size_t cert_len;
static struct altcp_tls_config *server_conf;
static const struct tls_persist *persist;

void stack_tls_set_persist(const struct tls_persist *p)
{
	persist = p;
}

/* The IPv4 addresses a certificate is issued for, as a string. */
static void current_addrs(char *out, size_t len)
{
	struct netif *netif;
	size_t o = 0;
	out[0] = 0;
	NETIF_FOREACH(netif)
	{
		if (ip4_addr_isany_val(*netif_ip4_addr(netif)) || o + 17 >= len)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "",
				      ip4addr_ntoa(netif_ip4_addr(netif)));
	}
}

/* mbedTLS's only entropy source (MBEDTLS_ENTROPY_HARDWARE_ALT). */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	(void)data;
	if (rng_read(output, len)) {
		*olen = 0;
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	}
	*olen = len;
	return 0;
}

static int tls_err(const char *what, int ret)
{
	char msg[100];
	mbedtls_strerror(ret, msg, sizeof(msg));
	printf("tls: %s failed: %s (-0x%04x)\n", what, msg, (unsigned int)-ret);
	return -EIO;
}

int stack_tls_init(void)
{
	uint8_t a[32], b[32];
	if (drbg_ready)
		return 0;
	if (!rng_ready()) {
		printf("tls: no entropy source (rng device): TLS is off\n");
		return -EIO;
	}
	/* Health check: the source answers, twice, differently, not stuck. */
	if (rng_read(a, sizeof(a)) || rng_read(b, sizeof(b)) || !memcmp(a, b, sizeof(a))) {
		printf("tls: the entropy source failed its health check: TLS is off\n");
		return -EIO;
	}
	int distinct = 0;
	for (size_t i = 1; i < sizeof(a); i++)
		distinct += a[i] != a[0];
	mbedtls_platform_zeroize(a, sizeof(a));
	mbedtls_platform_zeroize(b, sizeof(b));
	if (distinct < 8) {
		printf("tls: the entropy source looks stuck: TLS is off\n");
		return -EIO;
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	static const char pers[] = "hearth-tls";
	int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
					(const unsigned char *)pers, sizeof(pers) - 1);
	if (ret)
		return tls_err("seeding the DRBG", ret);
	drbg_ready = true;
	return 0;
}

int stack_random(void *buf, size_t len)
{
	if (!drbg_ready)
		return -EAGAIN;
	return mbedtls_ctr_drbg_random(&drbg, buf, len) ? -EIO : 0;
}

/* SubjectAltName: dNSName hearth.local and localhost, iPAddress 127.0.0.1,
 * ::1 and each address of each interface. Written backwards (mbedTLS). */
static int write_san(uint8_t *buf, size_t size, size_t *len)
{
	uint8_t *p = buf + size;
	size_t n = 0;
	int r;
	uint8_t ips[8][16];
	size_t iplen[8], nips = 0;
	struct netif *netif;

	static const uint8_t lo4[4] = {127, 0, 0, 1};
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	memcpy(ips[nips], lo4, 4);
	iplen[nips++] = 4;
	memcpy(ips[nips], lo6, 16);
	iplen[nips++] = 16;
	NETIF_FOREACH(netif)
	{
		if (!ip4_addr_isany_val(*netif_ip4_addr(netif)) && nips < 8) {
			memcpy(ips[nips], &netif_ip4_addr(netif)->addr, 4);
			iplen[nips++] = 4;
		}
		for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && nips < 8; i++) {
			if (!ip6_addr_isvalid(netif_ip6_addr_state(netif, i)))
				continue;
			memcpy(ips[nips], netif_ip6_addr(netif, i)->addr, 16);
			iplen[nips++] = 16;
		}
	}
	for (size_t i = nips; i-- > 0;) {
		/* [7] IMPLICIT OCTET STRING */
		if ((r = mbedtls_asn1_write_raw_buffer(&p, buf, ips[i], iplen[i])) < 0)
			return r;
		n += (size_t)r;
		if ((r = mbedtls_asn1_write_len(&p, buf, iplen[i])) < 0)
			return r;
		n += (size_t)r;
		if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) < 0)
			return r;
		n += (size_t)r;
	}
	static const char *const names[] = {"localhost", CONFIG_NET_HOSTNAME ".local"};
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(names[i]);
		if ((r = mbedtls_asn1_write_raw_buffer(&p, buf, (const uint8_t *)names[i], l)) < 0)
			return r;
		n += (size_t)r;
		if ((r = mbedtls_asn1_write_len(&p, buf, l)) < 0)
			return r;
		n += (size_t)r;
		if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) < 0)
			return r;
		n += (size_t)r;
	}
	if ((r = mbedtls_asn1_write_len(&p, buf, n)) < 0)
		return r;
	n += (size_t)r;
	if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		return r;
	n += (size_t)r;
	memmove(buf, p, n);
	*len = n;
	return 0;
}

/* (from) and (to) hold 32 bytes. */
static void validity(char *from, char *to)
{
	int64_t ns = time_wall_ns();
	long y = 2026, mo = 1, d = 1, h = 0, mi = 0, s = 0;
	if (ns > 0) {
		/* Civil date from days since the epoch. */
		int64_t secs = ns / 1000000000;
		int64_t days = secs / 86400, rem = secs % 86400;
		h = (long)(rem / 3600);
		mi = (long)(rem % 3600 / 60);
		s = (long)(rem % 60);
		int64_t z = days + 719468, era = z / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153;
		d = (long)(doy - (153 * mp + 2) / 5 + 1);
		mo = (long)(mp < 10 ? mp + 3 : mp - 9);
		y = (long)(yoe + era * 400 + (mo <= 2));
	}
	/* An hour of slack for clocks behind ours; ten years of validity. */
	if (h > 0)
		h--;
	if (y < 2000 || y > 9000)
		y = 2026;
	snprintf(from, 32, "%04d%02d%02d%02d%02d%02d", (int)y, (int)mo, (int)d, (int)h, (int)mi, (int)s);
	snprintf(to, 32, "%04d%02d%02d%02d%02d%02d", (int)y + 10, (int)mo,
		 (int)(d == 29 && mo == 2 ? 28 : d), (int)h, (int)mi, (int)s);
}

static int issue_cert(void)
{
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	uint8_t san[512], eku[32], sn[16];
	size_t san_len;
	char from[32], to[32];
	int ret;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	if ((ret = mbedtls_x509write_crt_set_subject_name(&crt, "CN=" CONFIG_NET_HOSTNAME ".local,O=Hearth")) ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&crt, "CN=" CONFIG_NET_HOSTNAME ".local,O=Hearth")))
		goto out;
	if ((ret = mbedtls_ctr_drbg_random(&drbg, sn, sizeof(sn))))
		goto out;
	sn[0] &= 0x7f; /* positive */
	sn[0] |= 0x01; /* and 16 bytes long */
	if ((ret = mbedtls_mpi_read_binary(&serial, sn, sizeof(sn))) ||
	    (ret = mbedtls_x509write_crt_set_serial(&crt, &serial)))
		goto out;
	validity(from, to);
	if ((ret = mbedtls_x509write_crt_set_validity(&crt, from, to)) ||
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) ||
	    (ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)))
		goto out;
	if ((ret = write_san(san, sizeof(san), &san_len)) ||
	    (ret = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
						       MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
						       0, san, san_len)))
		goto out;
	/* ExtendedKeyUsage: SEQUENCE { id-kp-serverAuth } */
	{
		static const char server_auth[] = MBEDTLS_OID_SERVER_AUTH;
		size_t ol = sizeof(server_auth) - 1;
		eku[0] = 0x30;
		eku[1] = (uint8_t)(ol + 2);
		eku[2] = 0x06;
		eku[3] = (uint8_t)ol;
		memcpy(eku + 4, server_auth, ol);
		if ((ret = mbedtls_x509write_crt_set_extension(
			     &crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
			     MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, eku, ol + 4)))
			goto out;
	}
	ret = mbedtls_x509write_crt_der(&crt, cert_buf, sizeof(cert_buf), mbedtls_ctr_drbg_random,
					&drbg);
	if (ret < 0)
		goto out;
	cert_len = (size_t)ret;
	cert_der = cert_buf + sizeof(cert_buf) - cert_len;
	ret = 0;
out:
	mbedtls_x509write_crt_free(&crt);
	mbedtls_mpi_free(&serial);
	return ret ? tls_err("issuing the certificate", ret) : 0;
}

static int make_server_conf(void)
{
	uint8_t kbuf[256];
	int n = mbedtls_pk_write_key_der(&key, kbuf, sizeof(kbuf));
	if (n < 0)
		return tls_err("writing the key", n);
	struct altcp_tls_config *c = altcp_tls_create_config_server_privkey_cert(
		kbuf + sizeof(kbuf) - n, (size_t)n, NULL, 0, cert_der, cert_len);
	mbedtls_platform_zeroize(kbuf, sizeof(kbuf));
	if (!c) {
		printf("tls: lwIP could not make the server configuration\n");
		return -ENOMEM;
	}
	/* The old configuration stays: open connections still use it. */
	server_conf = c;
	return 0;
}

static void hex_fingerprint(const uint8_t *der, size_t len, char *out, size_t outlen)
{
	uint8_t h[32];
	mbedtls_sha256_ret(der, len, h, 0);
	size_t o = 0;
	for (int i = 0; i < 32 && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02X" : "%02X", h[i]);
}

static void spki_pin(char *out, size_t outlen)
{
	uint8_t spki[200], h[32], b64[64];
	size_t olen = 0;
	int n = mbedtls_pk_write_pubkey_der(&key, spki, sizeof(spki));
	if (n < 0 || outlen < 8) {
		if (outlen)
			out[0] = 0;
		return;
	}
	mbedtls_sha256_ret(spki + sizeof(spki) - n, (size_t)n, h, 0);
	mbedtls_base64_encode(b64, sizeof(b64), &olen, h, sizeof(h));
	snprintf(out, outlen, "sha256//%.*s", (int)olen, (const char *)b64);
}

static void save(const char *k, const void *v, size_t len)
{
	if (persist && persist->save(k, v, len))
		printf("tls: could not store %s: the identity will change at the next boot\n", k);
}

int stack_tls_reissue(void)
{
	int err = issue_cert();
	if (!err) {
		char addrs[128];
		current_addrs(addrs, sizeof(addrs));
		save("tls.cert", cert_der, cert_len);
		save("tls.addrs", addrs, strlen(addrs));
		err = make_server_conf();
	}
	return err;
}

/* The stored key, and the stored certificate if it names today's address. */
static void load_identity(void)
{
	uint8_t buf[2048];
	size_t len = sizeof(buf);
	if (!persist || persist->load("tls.key", buf, &len))
		return;
	mbedtls_pk_init(&key);
	int ret = mbedtls_pk_parse_key(&key, buf, len, NULL, 0);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	if (ret || !mbedtls_pk_can_do(&key, MBEDTLS_PK_ECDSA)) {
		printf("tls: the stored device key is unusable; making a new one\n");
		mbedtls_pk_free(&key);
		return;
	}
	have_key = true;
	char want[128], got[128];
	size_t glen = sizeof(got) - 1;
	current_addrs(want, sizeof(want));
	len = sizeof(cert_buf);
	if (persist->load("tls.addrs", got, &glen) || (got[glen] = 0, strcmp(got, want)) ||
	    persist->load("tls.cert", cert_buf, &len))
		return;
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_der(&crt, cert_buf, len) == 0) {
		/* Only if it is ours: the stored key must match the certificate. */
		if (mbedtls_pk_check_pair(&crt.pk, &key) == 0) {
			memmove(cert_buf + sizeof(cert_buf) - len, cert_buf, len);
			cert_der = cert_buf + sizeof(cert_buf) - len;
			cert_len = len;
		}
	}
	mbedtls_x509_crt_free(&crt);
}

int stack_tls_identity(char *fingerprint, size_t fplen, char *pin, size_t pinlen)
{
	int ret;
	if (!drbg_ready)
		return -EIO;
	if (!have_key)
		load_identity();
	if (!have_key) {
		mbedtls_pk_init(&key);
		if ((ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
		    (ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
					       mbedtls_ctr_drbg_random, &drbg)))
			return tls_err("making the device key", ret);
		have_key = true;
		uint8_t kbuf[256];
		int n = mbedtls_pk_write_key_der(&key, kbuf, sizeof(kbuf));
		if (n > 0)
			save("tls.key", kbuf + sizeof(kbuf) - n, (size_t)n);
		mbedtls_platform_zeroize(kbuf, sizeof(kbuf));
	}
	if (!cert_der) {
		if ((ret = stack_tls_reissue()))
			return ret;
	} else if (!server_conf && (ret = make_server_conf())) {
		return ret;
	}
	hex_fingerprint(cert_der, cert_len, fingerprint, fplen);
	spki_pin(pin, pinlen);
	return 0;
}

const uint8_t *stack_tls_cert(size_t *len)
{
	*len = cert_len;
	return cert_der;
}

struct altcp_tls_config *stack_tls_server_config(void)
{
	return server_conf;
}
