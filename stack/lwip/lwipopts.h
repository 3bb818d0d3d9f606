/*
 * lwipopts.h: Hearth's lwIP configuration. NO_SYS=1: lwIP runs only from the
 * event loop (interrupt handlers never call it), so no locking. IPv4 + IPv6
 * (link-local, SLAAC), DHCP, DNS, SNTP, mDNS, TCP with altcp and TLS over
 * mbedTLS. PCBs come from static pools (so connection counts are bounded);
 * packet memory from the libc heap.
 * Leaves out: the socket and netconn APIs, PPP, 6LoWPAN, IP forwarding.
 */
#ifndef HEARTH_LWIPOPTS_H
#define HEARTH_LWIPOPTS_H

#include <stdint.h>

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_TIMERS 1

/* Memory: the heap for pbufs and TLS, fixed pools for PCBs. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEMP_NUM_TCP_PCB 40
#define MEMP_NUM_TCP_PCB_LISTEN 6
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_TCP_SEG 256
#define MEMP_NUM_PBUF 64
#define PBUF_POOL_SIZE 96
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define MEMP_NUM_ALTCP_PCB MEMP_NUM_TCP_PCB

/* IPv4 and IPv6 */
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_ICMP 1
#define LWIP_ICMP6 1
#define LWIP_RAW 0
#define LWIP_IGMP 1
#define LWIP_ARP 1
#define ARP_QUEUEING 1
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_IPV6_FRAG 1
#define LWIP_IPV6_REASS 1
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit the IPv6 fragment header */

/* DHCP, DNS, SNTP, mDNS */
#define LWIP_DHCP 1
#define LWIP_DHCP_GET_NTP_SRV 1
#define LWIP_DHCP_MAX_NTP_SERVERS 1
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 2
#define LWIP_UDP 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NUM_NETIF_CLIENT_DATA 2
#define LWIP_MDNS_RESPONDER 1
#define MDNS_MAX_SERVICES 2
#define LWIP_AUTOIP 0
#define SNTP_SERVER_DNS 1
#define SNTP_GET_SERVERS_FROM_DHCP 1
#define SNTP_MAX_SERVERS 2
#define SNTP_STARTUP_DELAY 0
#define SNTP_UPDATE_DELAY (60 * 60 * 1000)
void stack_sntp_set_time(uint32_t sec, uint32_t frac);
#define SNTP_SET_SYSTEM_TIME_NTP(s, f) stack_sntp_set_time((s), (f))

/* TCP */
#define LWIP_TCP 1
#define TCP_MSS 1460
/* Room for two full 16 KiB TLS records: altcp_tls opens the window only as
 * the application consumes plaintext. */
#define TCP_WND (24 * TCP_MSS)
#define TCP_SND_BUF (16 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 16
#define LWIP_TCP_KEEPALIVE 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_ALTCP 1
#define LWIP_ALTCP_TLS 1
#define LWIP_ALTCP_TLS_MBEDTLS 1
#define ALTCP_MBEDTLS_USE_SESSION_TICKETS 1
#define ALTCP_MBEDTLS_SESSION_TICKET_CIPHER MBEDTLS_CIPHER_AES_256_GCM

/* Netif */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_SINGLE_NETIF 0
#define LWIP_ETHERNET 1

/* Randomness (ports, DNS ids, SLAAC): from the rng device. */
uint32_t stack_rand32(void);
#define LWIP_RAND() stack_rand32()

#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MIB2_STATS 0
#define LWIP_CHECKSUM_ON_COPY 1

#endif
