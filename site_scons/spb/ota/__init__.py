# SPDX-License-Identifier: Apache-2.0
"""Fleet updates (docs/ota.md): the static update repository and its signed manifest (repo, manifest),
`spb serve` over HTTP and CoAP (server, coap) and the reference device client (client)."""
