// ethers v6 from npm against an Energy Ledger node: network, contract calls by the served ABI, a signed transfer,
// its receipt and decoded log, a log query (filter), and the same event through a WebSocket subscription.
const { ethers } = require("ethers");

async function main() {
  const [url, key, tokenAddress] = process.argv.slice(2);
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100 });
  const abi = await (await fetch(`${url}/abi/RubleToken.json`)).json();
  const token = new ethers.Contract(tokenAddress, abi, new ethers.Wallet(key, provider));
  const ws = new ethers.WebSocketProvider(url.replace("http", "ws"));
  const heard = new Promise((resolve) => {
    new ethers.Contract(tokenAddress, abi, ws).on("Transfer", (from, to, value) => resolve([to, value.toString()]));
  });
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the subscription reach the node
  const recipient = ethers.Wallet.createRandom().address;
  const tx = await token.transfer(recipient, 4242n, { gasLimit: 200000, maxFeePerGas: 0, maxPriorityFeePerGas: 0 });
  const receipt = await tx.wait(1, 20000);
  const out = {
    chainId: Number((await provider.getNetwork()).chainId),
    symbol: await token.symbol(),
    status: receipt.status,
    parsed: receipt.logs.map((l) => token.interface.parseLog(l)).map((p) => [p.name, p.args[1], p.args[2].toString()]),
    balance: (await token.balanceOf(recipient)).toString(),
    queried: (await token.queryFilter(token.filters.Transfer(null, recipient), 0, "latest")).length,
    blockMatches: (await provider.getBlock(receipt.blockNumber)).hash === receipt.blockHash,
    recipient,
  };
  out.heard = await Promise.race([heard, new Promise((_, reject) => setTimeout(() => reject(new Error("no event")), 15000))]);
  await ws.destroy();
  provider.destroy();
  console.log(JSON.stringify(out));
}

main().catch((error) => { console.error(error); process.exit(1); });
