// What kstatus concludes about one object: shared by the generic rules (kstatus.ts) and the
// rules for built-in kinds (kstatus-builtin.ts), so that neither imports the other for it.

export type KstatusStatus = 'InProgress' | 'Current' | 'Failed' | 'Terminating' | 'Unknown';

export interface KstatusResult {
  status: KstatusStatus;
  message: string;
  /** Set when kstatus could not judge the object (status Unknown). */
  error?: string;
}

export const inProgress = (message: string): KstatusResult => ({ status: 'InProgress', message });
export const current = (message: string): KstatusResult => ({ status: 'Current', message });
export const failed = (message: string): KstatusResult => ({ status: 'Failed', message });
