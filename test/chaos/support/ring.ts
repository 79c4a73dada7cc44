// Operator replicas of one ring (HESTIA_SHARDING), each a process of its own reaching the API server through a TCP
// proxy of its own, so that a fault test can SIGKILL one, cut one off, start more and stop some.
import { existsSync } from 'node:fs';
import { operatorKubeConfig, OPERATOR_NAMESPACE } from '../../integration/support/identity.ts';
import { waitFor } from '../../integration/support/kube.ts';
import { apiServerAddress } from './control-plane.ts';
import { kubeconfigFile, OperatorProcess } from './operator-process.ts';
import { TcpProxy } from './tcp-proxy.ts';

export interface Member {
  process: OperatorProcess;
  proxy: TcpProxy;
}

export class Ring {
  readonly name: string;
  private readonly env: Record<string, string>;
  readonly members = new Map<string, Member>();
  private readonly gone: Member[] = [];

  /** `env`: the member Leases' timing, the test clock, ... */
  constructor(name: string, env: Record<string, string>) {
    this.name = name;
    this.env = env;
  }

  get identities(): string[] {
    return [...this.members.keys()].sort();
  }

  /** A replica (a new process, through a new proxy) of the ring, started; resolves once it holds slots. */
  async join(identity: string): Promise<Member> {
    const proxy = await TcpProxy.start(apiServerAddress());
    const kubeconfig = kubeconfigFile(await operatorKubeConfig(), `${this.name}-${identity}-${Date.now()}`, proxy.url);
    const process = new OperatorProcess({
      name: `${this.name}-${identity}`,
      kubeconfig,
      env: { HESTIA_SHARDING: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: this.name, ...this.env },
    });
    const tookBefore = existsSync(process.logFile) ? process.logLines('"msg":"took slots"').length : 0;
    await process.start();
    const member = { process, proxy };
    this.members.set(identity, member);
    // A member once its Lease is renewed and it holds slots: only then can a fault take anything from it (one cut off
    // before its first renewal holds nothing, has nothing to stop, and waits for the API server as a standby does).
    await waitFor(`${identity} to take its slots`, () => process.logLines('"msg":"took slots"').length > tookBefore, 60_000);
    return member;
  }

  /** SIGKILL: its Runners move once its member Lease has expired. */
  async kill(identity: string): Promise<void> {
    await this.members.get(identity)!.process.kill();
    this.leave(identity);
  }

  /** Cut off from the API server: resolves with its exit code (1: it stopped at its renew deadline). */
  async partition(identity: string): Promise<number | null> {
    const cut = this.members.get(identity)!;
    cut.proxy.partition();
    const code = await cut.process.exit();
    this.leave(identity);
    return code;
  }

  /** SIGTERM: it hands its Runners over and leaves the ring. */
  async terminate(identities: string[]): Promise<void> {
    await Promise.all(identities.map((id) => this.members.get(id)!.process.terminate()));
    for (const id of identities) this.leave(id);
  }

  private leave(identity: string): void {
    const member = this.members.get(identity)!;
    this.members.delete(identity);
    this.gone.push(member);
  }

  async close(): Promise<void> {
    for (const m of [...this.members.values(), ...this.gone]) {
      await m.process.close();
      await m.proxy.close();
    }
  }
}
