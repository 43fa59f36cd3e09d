// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay - forwards TCP connections made to 127.0.0.1:PORT inside the guest to
 * HOST:PORT, the host as QEMU's user network shows it (10.0.2.2). A node agent
 * in the guest then reaches the host's API server at the very address its
 * certificate names (127.0.0.1), as an agent reaches its API server through a
 * node-local proxy.
 *
 * Usage: relay PORT HOST
 *
 * One child process a connection, copying both ways until either side ends.
 * Statically linked: the guest's initramfs has no libc.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int copy(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, n - off);

		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

static void serve(int client, const struct sockaddr_in *upstream)
{
	int server = socket(AF_INET, SOCK_STREAM, 0);
	struct pollfd fds[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };

	if (server < 0 || connect(server, (const struct sockaddr *)upstream, sizeof(*upstream))) {
		perror("relay: connect");
		exit(1);
	}
	for (;;) {
		if (poll(fds, 2, -1) < 0)
			exit(1);
		if (fds[0].revents && copy(client, server))
			exit(0);
		if (fds[1].revents && copy(server, client))
			exit(0);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in local = { .sin_family = AF_INET }, upstream = local;
	int one = 1, listener;

	if (argc != 3) {
		fprintf(stderr, "usage: relay PORT HOST\n");
		return 2;
	}
	local.sin_port = upstream.sin_port = htons(atoi(argv[1]));
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (inet_pton(AF_INET, argv[2], &upstream.sin_addr) != 1) {
		fprintf(stderr, "relay: bad host %s\n", argv[2]);
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listener, (struct sockaddr *)&local, sizeof(local)) || listen(listener, 16)) {
		perror("relay: listen");
		return 1;
	}
	for (;;) {
		int client = accept(listener, NULL, NULL);

		if (client < 0)
			continue;
		if (fork() == 0) {
			close(listener);
			serve(client, &upstream);
		}
		close(client);
	}
}
