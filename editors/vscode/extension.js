// yakkan for VS Code: the grammar is declared in package.json; this starts `yakkan lsp`
// (stdio) for .yk files. The command comes from the setting `yakkan.server.command`.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("yakkan").get("server.command");
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("yakkan", "yakkan", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "yakkan" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
