/** One thing wrong with the farm file, at a JSON pointer (`/clients/dut1/profile`) so the editor can underline it. */
export interface FarmIssue {
  pointer: string;
  message: string;
  severity: 'error' | 'warning';
}
