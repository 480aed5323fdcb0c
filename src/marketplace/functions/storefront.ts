/**
 * storefront (GET): the stores with their products, for the storefront page. Anyone may
 * read it, but credentials that are presented must verify.
 */
import { defineFunction, json, route } from "../../bus/functions/index.ts";

export const storefront = defineFunction({
  name: "storefront",
  auth: "anyone",
  routes: [route("GET", {
    handle: async ({ bus }) => {
      const stores = await bus.sql`
        select s.id, s.name, s.slug, s.currency,
               coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name, 'price_minor', p.price_minor, 'stock', p.stock,
                                                     'allow_backorder', p.allow_backorder) order by p.name)
                        filter (where p.id is not null), '[]') as products
        from stores s left join products p on p.store_id = s.id
        group by s.id order by s.name`;
      return json({ stores });
    },
  })],
});
