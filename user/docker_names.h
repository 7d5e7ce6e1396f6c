/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Docker container names asked of the Docker Engine API over its unix
 * socket (GET /containers/ID/json), so that a daemon started with another
 * --data-root than /var/lib/docker still names its containers.  Bounded in
 * time and size: a daemon that is not running costs one failed connect(), a
 * daemon that does not answer costs the timeout once and is then left alone
 * for a while, and an answer larger than the limit is refused.
 */
#ifndef IOTRACE_DOCKER_NAMES_H
#define IOTRACE_DOCKER_NAMES_H

#include "classify.h"

#define DOCKER_API_TIMEOUT_MS 500 /* connect + request + answer, in all */
#define DOCKER_API_MAX_ANSWER (1U << 20) /* headers and body, bytes */
#define DOCKER_API_RETRY_S 30 /* after a daemon that did not answer */

/*
 * Ask the Engine API at unix socket sock_path for the name of container
 * cls->container_id and put it in cls->name.  0 when named; else cls is
 * unchanged and the error says why:
 *   -EINVAL       the id is not 1 to 64 lowercase hex digits (nothing sent)
 *   -ENOENT, -ECONNREFUSED  no daemon there (from connect())
 *   -EAGAIN       the daemon's listen backlog is full
 *   -ESRCH        the daemon does not know the container (404)
 *   -ETIMEDOUT    no complete answer within timeout_ms
 *   -EFBIG        the answer is larger than DOCKER_API_MAX_ANSWER
 *   -EPROTO       not an HTTP answer, another status, or a chunked one
 *   -EBADMSG      a body that is not a container object with a name
 */
int docker_api_name(const char *sock_path, unsigned int timeout_ms, struct wl_class *cls);

/*
 * Name a docker container (cls->runtime "docker") from the Engine API at
 * $DOCKER_HOST when it is unix://PATH, else at /run/docker.sock or
 * /var/run/docker.sock.  No daemon, or one that does not know the
 * container, is silent; a daemon that misbehaves gets one warning on
 * stderr per process, and after a timeout the API is not asked again for
 * DOCKER_API_RETRY_S seconds.  Returns what docker_api_name() does.
 */
int docker_name_from_api(struct wl_class *cls);

#endif
