// --proxy: every connection through an HTTP CONNECT proxy, here a small one written in the test.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { eicarText } from "../../lib/emulator/mod.ts";
import {
  CA_FILE,
  captureScan,
  captureTerminal,
  gatewayFastFlags,
  listFiles,
  scanFolders,
  sortFlags,
  tempDir,
  withEmulator,
  writeTree,
} from "../helpers.ts";

const KEY = "k-proxy";

/** A CONNECT proxy on a free port: it records each tunnel's target, or answers `refuse`. */
async function startProxy(refuse?: string) {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => {});
    client.once("data", (head) => {
      const target = /^CONNECT (\S+):(\d+) HTTP/.exec(head.toString());
      if (!target) return void client.destroy();
      if (refuse) return void client.end(`HTTP/1.1 ${refuse}\r\nContent-Length: 0\r\n\r\n`);
      tunnels.push(`${target[1]}:${target[2]}`);
      const upstream = net.connect(Number(target[2]), target[1], () => {
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.on("error", () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

Deno.test("a gateway scan through a CONNECT proxy: the gateway and its report port are reached through tunnels", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a/doc.txt": "a document", "b/eicar.com": eicarText() });
  await using proxy = await startProxy();
  await withEmulator({ apiKey: KEY }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, KEY);
    const { code, out, err } = await captureScan([
      ...sortFlags(f),
      ...gatewayFastFlags(emulator.port, keyFile),
      "--proxy",
      proxy.url,
    ]);
    assert.equal(code, 1, [...out, ...err].join("\n"));
    assert.deepEqual(await listFiles(f.jail), ["b/eicar.com"]);
    assert.deepEqual(await listFiles(f.out), ["a/doc.txt"]);
    assert.ok(proxy.tunnels.length >= 1, "the proxy saw a tunnel");
    assert.ok(proxy.tunnels.every((t) => t === `127.0.0.1:${emulator.port}`), proxy.tunnels.join());
    // The report came through the proxy too: no connection went around it.
    assert.ok((await listFiles(join(f.rep, "b"))).some((p) => p.startsWith("eicar.com_report/")));
  });
});

Deno.test("a proxy that asks for authentication or refuses the tunnel: one line, exit 3, nothing moved", async () => {
  for (
    const [answer, said] of [
      ["407 Proxy Authentication Required", /it asks for authentication \(407 /],
      ["403 Forbidden", /it refused the tunnel to 127\.0\.0\.1:\d+ \(403 Forbidden\)/],
    ] as const
  ) {
    await using dir = await tempDir();
    const f = scanFolders(dir.path);
    await writeTree(f.input, { "a.txt": "a" });
    await using proxy = await startProxy(answer);
    await withEmulator({}, async (emulator) => {
      const flags = ["--ip", `127.0.0.1:${emulator.port}`, "--ca-cert", CA_FILE];
      const { code, out, err } = await captureScan([
        ...sortFlags(f),
        ...flags,
        "--proxy",
        proxy.url,
      ]);
      assert.equal(code, 3, [...out, ...err].join("\n"));
      assert.equal(err.length, 1, err.join("\n"));
      assert.match(
        err[0],
        new RegExp(`Cannot connect through the proxy ${proxy.url}: ` + said.source),
      );
      assert.deepEqual(await listFiles(f.input), ["a.txt"], "nothing moved");
      assert.equal(emulator.stats().http_requests, 0, "nothing reached the target");
    });
  }
});

Deno.test("--proxy takes http://HOST:PORT only", async () => {
  for (const proxy of ["proxy.corp:3128", "http://user:secret@proxy.corp:3128", "https://p:1"]) {
    const { code, err } = await captureScan(["--in", "x", "--ip", "h", "--proxy", proxy]);
    assert.equal(code, 3);
    assert.match(err.join("\n"), /--proxy: /);
    assert.ok(!err.join("\n").includes("secret"), "the password is not echoed");
  }
});

Deno.test("te-scan trust --proxy fetches the certificate through the tunnel", async () => {
  const { trustCommand } = await import("../../lib/cli/trust.ts");
  await using proxy = await startProxy();
  await withEmulator({}, async (emulator) => {
    const { terminal, lines } = await captureTerminal();
    const code = await trustCommand([`127.0.0.1:${emulator.port}`, "--proxy", proxy.url], terminal);
    assert.equal(code, 0, lines("err").join("\n"));
    assert.match(lines("out").join("\n"), /SHA-256/);
    assert.deepEqual(proxy.tunnels, [`127.0.0.1:${emulator.port}`]);
  });
});

Deno.test("the cloud with the system's trust goes through the proxy too (Deno's own client)", async () => {
  await using dir = await tempDir();
  const f = scanFolders(dir.path);
  await writeTree(f.input, { "a.txt": "a" });
  await withEmulator({ mode: "cloud", apiKey: "k" }, async (emulator) => {
    const keyFile = join(dir.path, "key");
    await Deno.writeTextFile(keyFile, "k");
    const url = `https://127.0.0.1:${emulator.port}/tecloud/api/v1/file/`;
    const cloud = [...sortFlags(f), "--url", url, "--api-key-file", keyFile];
    {
      await using refusing = await startProxy("407 Proxy Authentication Required");
      const run = await captureScan([...cloud, "--proxy", refusing.url]);
      assert.equal(run.code, 3, run.err.join("\n"));
      assert.match(run.err.join("\n"), /through the proxy .* it asks for authentication/);
    }
    await using proxy = await startProxy();
    const run = await captureScan([...cloud, "--proxy", proxy.url]);
    // The test CA is not the system's: the certificate is refused, after the tunnel was opened.
    assert.equal(run.code, 3, run.err.join("\n"));
    assert.ok(proxy.tunnels.includes(`127.0.0.1:${emulator.port}`), proxy.tunnels.join());
    assert.deepEqual(await listFiles(f.input), ["a.txt"]);
  });
});
