/** How the product of an order or clearance reads: `HS 8518.22`, or the category a seller
 * searched by (stored as `category:<id>` where no HS code was given). */
export function productLabel(hsCode: string): string {
  const category = "category:";
  return hsCode.startsWith(category) ? hsCode.slice(category.length) : `HS ${hsCode}`;
}
