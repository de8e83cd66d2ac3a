/** Nested aliases, nine levels: `a: &a ["x",...]`, `b: &b [*a,...]`, ... `i: &i [*h,...]`. */
export function laughs(perLevel: number): string {
  const names = 'abcdefghi';
  const lines = [`a: &a [${Array(perLevel).fill('"x"').join(',')}]`];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(perLevel)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  return lines.join('\n') + '\n';
}
