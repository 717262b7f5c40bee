export const usage = 'doctor   check browser, native host, socket, lock and database, and say how to fix what is wrong';

export async function run(): Promise<number> {
  process.stdout.write('doctor: not implemented yet\n');
  return 1;
}
